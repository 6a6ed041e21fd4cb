"""Cold start of each function: its handler module imported in a fresh interpreter, against `import boto3` alone.

    .venv/bin/python -m benchmarks.cold_start                          # about 2 minutes (the first run also installs
                                                                       # the layer's packages: a minute more)
    .venv/bin/python -m benchmarks.cold_start --tracing-mode Active    # as deployed with X-Ray on

Each measure is a new process of this Python (3.13, as the functions' runtime) started with -I -S: no site-packages,
no PYTHON* variables. Its sys.path is what Lambda gives a function: the function's folder, the dependencies layer
(layers/deps/requirements.txt installed by pip into .bench-cache/, once per version of that file) and the connector
layer (shared/). Its environment is the function's as deployed: the template's variables, resolved by deploying
template.yaml into the local stack (POWERTOOLS_*, the tracing switch set by the TracingMode parameter), and what the
Lambda runtime sets (function name, memory size, region, credentials, the X-Ray daemon's address when tracing is on).

CPU is the process's user + system time once the module is imported, memory its peak resident set (VmHWM); both
include the interpreter's own start, as the baseline does: `import boto3` alone in the same interpreter. Each figure
is the median of --repeat processes; the ratios are checked against the targets (CPU at most 1.3x, memory 1.5x).
Then each function's heaviest imports: python -X importtime's self time summed per top-level package.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import say, work_directory
from benchmarks.tables import table
from ml_local.session import local_stack
from ml_local.template import REPO_ROOT

LAYER_REQUIREMENTS = REPO_ROOT / "layers" / "deps" / "requirements.txt"
CACHE_DIR = REPO_ROOT / ".bench-cache"
CPU_TARGET = 1.3
MEMORY_TARGET = 1.5
TOP_PACKAGES = 10
_COMPLETE = ".complete"

# What the Lambda runtime sets besides the function's own variables (credentials are placeholders: nothing calls AWS).
RUNTIME_ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_ACCESS_KEY_ID": "ASIABENCHMARKONLY000",
    "AWS_SECRET_ACCESS_KEY": "benchmark-only",
    "AWS_SESSION_TOKEN": "benchmark-only",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}
XRAY_ENVIRONMENT = {
    "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
    "_AWS_XRAY_DAEMON_PORT": "2000",
}

# Runs in the measured process: the import, then the figures as one JSON line. Peak memory is VmHWM, the process's
# own: ru_maxrss would keep the high-water mark of the parent it was forked from (Linux carries it across exec).
_PROBE = """
import sys
sys.path[:0] = {paths!r}
{statement}
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
import json
print(json.dumps({{"cpu": usage.ru_utime + usage.ru_stime, "rss_kib": int(peak), "modules": len(sys.modules),
                  "boto3": getattr(sys.modules.get("boto3"), "__file__", None)}}))
"""


@dataclass(frozen=True)
class Target:
    name: str
    statement: str
    paths: tuple[str, ...]
    environment: dict[str, str]


@dataclass(frozen=True)
class Sample:
    """One measured process."""

    cpu: float
    rss_kib: int
    modules: int
    boto3: str | None
    """Where boto3 came from, if it was imported."""
    stderr: str


@dataclass(frozen=True)
class Figures:
    cpu: float
    """Seconds, median."""
    rss: int
    """Bytes, median."""
    modules: int
    heaviest: list[tuple[str, float, int]]
    """(top-level package, self import seconds, modules), heaviest first."""


def layer_packages() -> Path:
    """The dependencies layer's packages, installed once per version of its requirements file."""
    digest = hashlib.sha256(LAYER_REQUIREMENTS.read_bytes()).hexdigest()[:12]
    target = CACHE_DIR / f"layer-{digest}"
    if (target / _COMPLETE).exists():
        return target
    staging = CACHE_DIR / f"layer-{digest}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    say(f"installing {LAYER_REQUIREMENTS.relative_to(REPO_ROOT)} into {staging.relative_to(REPO_ROOT)} ...")
    subprocess.run(  # noqa: S603 - this interpreter's pip, the project's own requirements file
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(staging),
         "-r", str(LAYER_REQUIREMENTS)],
        check=True,
    )  # fmt: skip
    (staging / _COMPLETE).touch()
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def function_targets(work_dir: Path, layer: Path, tracing_mode: str | None) -> list[Target]:
    """Each function's import, with its environment as deployed (the template deployed into the local stack)."""
    parameters = {"TracingMode": tracing_mode} if tracing_mode else None
    targets = []
    with local_stack(work_dir / "stack", parameters=parameters) as stack:
        lambda_client = stack.aws.client("lambda")
        for function in sorted(stack.stack.functions.values(), key=lambda f: f.logical_id):
            config = lambda_client.get_function_configuration(FunctionName=function.name)
            tracing = config.get("TracingConfig", {}).get("Mode") == "Active"
            code_dir = REPO_ROOT / function.code_dir
            module, attribute = function.handler.rsplit(".", 1)
            environment = {
                **RUNTIME_ENVIRONMENT,
                **(XRAY_ENVIRONMENT if tracing else {}),
                **function.environment,
                "AWS_LAMBDA_FUNCTION_NAME": function.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
                "LAMBDA_TASK_ROOT": str(code_dir),
                "_HANDLER": function.handler,
            }
            targets.append(
                Target(
                    function.logical_id,
                    f"import {module}; {module}.{attribute}",
                    (str(code_dir), str(layer), str(REPO_ROOT / "shared")),
                    environment,
                )
            )
    return targets


def measure(target: Target, repeat: int) -> Figures:
    samples = [_probe(target) for _ in range(repeat)]
    if target.statement == "import boto3" and not str(samples[0].boto3).startswith(target.paths[0]):
        raise RuntimeError(f"boto3 came from {samples[0].boto3}, not the layer: the interpreter is not isolated")
    return Figures(
        cpu=statistics.median(s.cpu for s in samples),
        rss=int(statistics.median(s.rss_kib for s in samples)) * 1024,
        modules=samples[0].modules,
        heaviest=_heaviest_packages(target),
    )


def _probe(target: Target, *options: str) -> Sample:
    completed = subprocess.run(  # noqa: S603 - this interpreter, on the probe above
        [
            sys.executable,
            "-I",
            "-S",
            *options,
            "-c",
            _PROBE.format(paths=list(target.paths), statement=target.statement),
        ],
        env=target.environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=target.paths[0] if target.paths else None,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{target.name}: the import failed:\n{completed.stderr[-3000:]}")
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    return Sample(figures["cpu"], figures["rss_kib"], figures["modules"], figures["boto3"], completed.stderr)


def _heaviest_packages(target: Target) -> list[tuple[str, float, int]]:
    """From ``-X importtime`` lines: ``import time: <self us> | <cumulative us> | <indented module name>``."""
    stderr = _probe(target, "-X", "importtime").stderr
    seconds: dict[str, float] = {}
    modules: Counter[str] = Counter()
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        package = name.strip().split(".")[0]
        seconds[package] = seconds.get(package, 0.0) + int(self_us) / 1_000_000
        modules[package] += 1
    heaviest = sorted(seconds.items(), key=lambda item: -item[1])[:TOP_PACKAGES]
    return [(package, spent, modules[package]) for package, spent in heaviest]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cold_start",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--repeat", type=int, default=5, help="processes per measure (the median is printed)")
    parser.add_argument(
        "--tracing-mode",
        choices=("PassThrough", "Active"),
        default=None,
        help="the template's TracingMode (default: its own)",
    )
    parser.add_argument("--function", action="append", default=None, help="only this logical id (repeatable)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    layer = layer_packages()
    say("deploying template.yaml into the local stack for the functions' environments ...")
    with work_directory(None, "bench-cold-start-") as work_dir:
        functions = function_targets(work_dir, layer, args.tracing_mode)
    if args.function:
        functions = [f for f in functions if f.name in args.function]
    environment = {**RUNTIME_ENVIRONMENT, "AWS_LAMBDA_FUNCTION_NAME": "benchmark-baseline"}
    bare = Target("python alone", "pass", (), environment)
    baseline = Target("import boto3", "import boto3", (str(layer),), environment)
    figures = {}
    for target in [bare, baseline, *functions]:
        say(f"{target.name} ...")
        figures[target.name] = measure(target, args.repeat)
    base = figures[baseline.name]
    tracing = {f.environment.get("POWERTOOLS_TRACE_DISABLED", "(unset)") for f in functions}
    print(f"Cold start: handler import in a fresh python -I -S, layer packages only; median of {args.repeat}")
    print(f"POWERTOOLS_TRACE_DISABLED as deployed: {', '.join(sorted(tracing))}; layer packages in {layer}")
    rows = []
    for name, f in figures.items():
        cpu_ratio, rss_ratio = f.cpu / base.cpu, f.rss / base.rss
        met = "" if name in (bare.name, baseline.name) else _verdict(cpu_ratio, rss_ratio)
        rows.append(
            [
                name,
                f"{f.cpu * 1000:.0f}",
                f"{cpu_ratio:.2f}",
                f"{f.rss / 1_048_576:.1f}",
                f"{rss_ratio:.2f}",
                f.modules,
                met,
            ]
        )
    print(table(["import", "CPU ms", "x boto3", "RSS MiB", "x boto3", "modules", "targets"], rows))
    print(f"targets: CPU at most {CPU_TARGET}x and memory at most {MEMORY_TARGET}x those of `import boto3`")
    print(f"\nHeaviest imports (self time per top-level package, ms, and its modules; top {TOP_PACKAGES}):")
    for name, f in figures.items():
        if name != bare.name:
            print(f"{name}: " + ", ".join(f"{p} {s * 1000:.0f} ({n})" for p, s, n in f.heaviest))
    return 0


def _verdict(cpu_ratio: float, rss_ratio: float) -> str:
    missed = [
        what
        for what, ratio, target in (("CPU", cpu_ratio, CPU_TARGET), ("memory", rss_ratio, MEMORY_TARGET))
        if ratio > target
    ]
    return "met" if not missed else "missed: " + ", ".join(missed)


if __name__ == "__main__":
    sys.exit(main())
