"""The whole local AWS side in one object: moto server, the deployed template, the function runtime, the driver."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from moto.server import ThreadedMotoServer

from ml_connector.settings import FunctionSettings
from ml_local.aws import LocalAws
from ml_local.driver import LocalDriver
from ml_local.lambda_runtime import LocalLambda
from ml_local.stack import DeployedStack, LocalFunction, deploy_stack

STATE_FILE_NAME = "stack.json"


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
        self, functions: dict[str, LocalFunction], *, extra_environment: dict[str, str] | None = None
    ) -> Iterator[LocalDriver]:
        """A driver over the same resources with some functions changed (a shorter timeout, a stand-in handler);
        only the functions given are delivered to."""
        variant = dataclasses.replace(self.stack, functions=functions)
        runtime = LocalLambda(
            variant, self.work_dir / "logs-variant", extra_environment=_local_runtime_environment(extra_environment)
        )
        try:
            yield LocalDriver(variant, runtime)
        finally:
            runtime.close()

    def settings(self) -> FunctionSettings:
        """The resource names every function gets from the template (they share Globals)."""
        return FunctionSettings.from_environment(self.stack.function("DispatcherFunction").environment)


def _quiet_moto() -> None:
    # moto warns once per resource type its CloudFormation skips (the stack creates those itself) and werkzeug logs
    # every request; neither helps someone running the demo.
    warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.ERROR)


def start_moto_server(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadedMotoServer, str]:
    from sage_agent.serving import free_port

    _quiet_moto()
    chosen = port or free_port(host)
    server = ThreadedMotoServer(ip_address=host, port=chosen, verbose=False)
    server.start()
    return server, f"http://{host}:{chosen}"


@contextlib.contextmanager
def local_stack(
    work_dir: Path,
    *,
    port: int = 0,
    parameters: dict[str, str] | None = None,
    extra_environment: dict[str, str] | None = None,
) -> Iterator[LocalStack]:
    """Start moto on 127.0.0.1, deploy template.yaml into it, and yield the stack with its runtime and driver."""
    server, endpoint = start_moto_server(port=port)
    runtime: LocalLambda | None = None
    try:
        stack = deploy_stack(LocalAws(endpoint), parameters=parameters)
        stack.save(work_dir / STATE_FILE_NAME)
        runtime = LocalLambda(stack, work_dir / "logs", extra_environment=_local_runtime_environment(extra_environment))
        yield LocalStack(work_dir, stack, runtime, LocalDriver(stack, runtime))
    finally:
        if runtime is not None:
            runtime.close()
        server.stop()


def _local_runtime_environment(extra: dict[str, str] | None) -> dict[str, str]:
    # No X-Ray daemon runs locally: tracing is off, everything else is as deployed.
    return {"POWERTOOLS_TRACE_DISABLED": "true", **(extra or {})}
