"""The whole local AWS side in one object: moto server, the deployed template, the function runtime, the driver."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ml_connector.settings import FunctionSettings
from ml_connector.state.dynamodb import DynamoStateStore
from ml_local.aws import LocalAws
from ml_local.driver import LocalDriver
from ml_local.lambda_runtime import DEFAULT_CONCURRENCY, LocalLambda
from ml_local.stack import DeployedStack, LocalFunction, deploy_stack
from sage_agent.serving import free_port

STATE_FILE_NAME = "stack.json"


class LocalStackError(RuntimeError):
    """The local stack cannot start for a reason the operator can fix (a port in use, moto failing to start)."""


@dataclass
class LocalStack:
    work_dir: Path
    stack: DeployedStack
    runtime: LocalLambda
    driver: LocalDriver

    @property
    def aws(self) -> LocalAws:
        return self.stack.aws

    @contextlib.contextmanager
    def variant(
        self,
        functions: dict[str, LocalFunction],
        *,
        extra_environment: dict[str, str] | None = None,
        concurrency: int | Mapping[str, int] = DEFAULT_CONCURRENCY,
    ) -> Iterator[LocalDriver]:
        """A driver over the same resources with some functions changed (a shorter timeout, a stand-in handler, a
        different concurrency); only the functions given are delivered to."""
        variant = dataclasses.replace(self.stack, functions=functions)
        runtime = LocalLambda(
            variant,
            self.work_dir / "logs-variant",
            extra_environment=_local_runtime_environment(extra_environment),
            concurrency=concurrency,
            crash_dir=self.work_dir / "crashes-variant",
        )
        try:
            yield LocalDriver(variant, runtime, skip_idle_time=self.driver.skips_idle_time)
        finally:
            runtime.close()

    def state_store(self) -> DynamoStateStore:
        settings = self.settings()
        return DynamoStateStore(
            settings.state_table,
            audit_retention=dt.timedelta(days=settings.audit_retention_days),
            dynamodb=self.aws.resource("dynamodb"),
        )

    def settings(self) -> FunctionSettings:
        """The resource names every function gets from the template (they share Globals)."""
        return FunctionSettings.from_environment(self.stack.function("DispatcherFunction").environment)


@dataclasses.dataclass
class MotoServer:
    """moto in server mode in a process of its own (its state is per process), logging to a file."""

    process: subprocess.Popen[bytes]
    endpoint_url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_moto_server(
    log_file: Path, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 30.0, clock_scale: float = 1.0
) -> MotoServer:
    """moto with SQS on a clock ``clock_scale`` times as fast as the wall clock (see ``ml_local.moto_clock``)."""
    chosen = port or free_port(host)
    with socket.socket() as probe:
        if probe.connect_ex((host, chosen)) == 0:
            raise LocalStackError(f"port {chosen} on {host} is in use; choose another with --port")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter's own moto
            [sys.executable, "-m", "ml_local.moto_clock", "-H", host, "-p", str(chosen), "--scale", str(clock_scale)],
            stdout=log,
            stderr=log,
        )
    server = MotoServer(process, f"http://{host}:{chosen}")
    deadline = time.monotonic() + startup_timeout
    while True:
        with socket.socket() as probe:
            if probe.connect_ex((host, chosen)) == 0:
                return server
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise LocalStackError(f"moto server did not start on {host}:{chosen}; see {log_file}")
        time.sleep(0.1)


@contextlib.contextmanager
def local_stack(
    work_dir: Path,
    *,
    port: int = 0,
    parameters: dict[str, str] | None = None,
    extra_environment: dict[str, str] | None = None,
    clock_scale: float = 1.0,
    skip_idle_time: bool = True,
    concurrency: int | Mapping[str, int] = DEFAULT_CONCURRENCY,
) -> Iterator[LocalStack]:
    """Start moto on 127.0.0.1, deploy template.yaml into it, and yield the stack with its runtime and driver.

    SQS runs ``clock_scale`` times as fast as the wall clock; ``skip_idle_time`` lets a drain move it ahead to the
    next hidden message; ``concurrency`` is how many invocations of a function run at once (see LocalLambda)."""
    server = start_moto_server(work_dir / "moto.log", port=port, clock_scale=clock_scale)
    runtime: LocalLambda | None = None
    try:
        stack = deploy_stack(LocalAws(server.endpoint_url), parameters=parameters)
        stack.save(work_dir / STATE_FILE_NAME)
        runtime = LocalLambda(
            stack,
            work_dir / "logs",
            extra_environment=_local_runtime_environment(extra_environment),
            concurrency=concurrency,
            crash_dir=work_dir / "crashes",
        )
        yield LocalStack(work_dir, stack, runtime, LocalDriver(stack, runtime, skip_idle_time=skip_idle_time))
    finally:
        if runtime is not None:
            runtime.close()
        server.stop()


def _local_runtime_environment(extra: dict[str, str] | None) -> dict[str, str]:
    # No X-Ray daemon runs locally: tracing is off, everything else is as deployed.
    return {"POWERTOOLS_TRACE_DISABLED": "true", **(extra or {})}
