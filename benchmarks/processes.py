"""The local stack's processes seen from /proc (Linux): the moto server and the functions' workers are children of
the benchmark's process; their peak memory and the CPU each has used."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ml_local.session import LocalStack
from ml_local.template import REPO_ROOT

THIS_PROCESS = "agent, simulator, driver"
"""This process's share of the CPU: the agent and the simulator serve from its threads; the driver polls SQS."""
MOTO = "moto"


@dataclass(frozen=True)
class _Child:
    role: str
    """``MOTO`` or a function's logical id."""
    stat: list[str]
    """/proc/<pid>/stat after the command name: state, ppid, ... utime (11), stime (12)."""
    status: str


def _children(stack: LocalStack) -> Iterator[_Child]:
    """This process's children that are the moto server or a function's worker (Linux /proc)."""
    by_code_dir = {str(REPO_ROOT / f.code_dir).rstrip("/"): f.logical_id for f in stack.stack.functions.values()}
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) != os.getpid():
                continue
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if "ml_local.moto_clock" in argv:
            yield _Child(MOTO, stat, status)
        elif "ml_local.lambda_worker" in argv:
            function = by_code_dir.get(argv[argv.index("ml_local.lambda_worker") + 1].rstrip("/"))
            if function is not None:
                yield _Child(function, stat, status)


def worker_peak_rss(stack: LocalStack) -> dict[str, int]:
    """Peak resident bytes (VmHWM) of each function's live worker processes, the largest per function."""
    peaks: dict[str, int] = {}
    for child in _children(stack):
        high_water = next((line.split()[1] for line in child.status.splitlines() if line.startswith("VmHWM:")), None)
        if child.role != MOTO and high_water is not None:
            peaks[child.role] = max(peaks.get(child.role, 0), int(high_water) * 1024)
    return peaks


def cpu_seconds(stack: LocalStack) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the moto server, each function's live workers, and this process."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for child in _children(stack):
        used[child.role] = used.get(child.role, 0.0) + (int(child.stat[11]) + int(child.stat[12])) / tick
    own = resource.getrusage(resource.RUSAGE_SELF)
    used[THIS_PROCESS] = own.ru_utime + own.ru_stime
    return used
