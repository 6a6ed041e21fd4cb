"""Runs the stack's functions locally: one warm worker process per function, with exactly the template's environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ml_local.stack import DeployedStack, LocalFunction
from ml_local.template import REPO_ROOT

# Where the layers would be mounted on Lambda (/opt/python): the project's shared package. Third-party packages come
# from this interpreter's site-packages, pinned by the same requirements as layers/deps.
LAYER_PATHS = (REPO_ROOT / "shared",)
# The worker module itself lives in local/.
_WORKER_PYTHONPATH = os.pathsep.join([*(str(p) for p in LAYER_PATHS), str(REPO_ROOT / "local")])


class FunctionError(Exception):
    """The handler raised, or the function timed out; Lambda would report a failed invocation."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.error_type = error_type


@dataclass
class _Worker:
    process: subprocess.Popen[str]
    log: IO[str]


class LocalLambda:
    """Invokes the deployed functions by logical id, like the Lambda service would."""

    def __init__(self, stack: DeployedStack, log_dir: Path, extra_environment: dict[str, str] | None = None) -> None:
        self._stack = stack
        self._log_dir = log_dir
        self._extra_environment = extra_environment or {}
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()

    def environment_of(self, function: LocalFunction) -> dict[str, str]:
        """The process environment: the template's variables, the Lambda runtime's own, and the local AWS endpoint."""
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")}
        return {
            **base,
            **self._stack.aws.environment(),
            **self._extra_environment,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
            "LOCAL_FUNCTION_ARN": f"arn:aws:lambda:{self._stack.aws.region}:123456789012:function:{function.name}",
            **function.environment,
        }

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        function = self._stack.function(logical_id)
        with self._lock:
            worker = self._workers.get(logical_id) or self._start(function)
            self._workers[logical_id] = worker
        deadline = time.time() + function.timeout
        request = {"event": event, "request_id": str(uuid.uuid4()), "deadline_ms": int(deadline * 1000)}
        assert worker.process.stdin is not None
        assert worker.process.stdout is not None
        try:
            worker.process.stdin.write(json.dumps(request) + "\n")
            worker.process.stdin.flush()
            line = self._read_line(worker, deadline)
        except (BrokenPipeError, TimeoutError) as exc:
            self._kill(logical_id)
            raise FunctionError(logical_id, type(exc).__name__, "the function process died or timed out") from exc
        response = json.loads(line)
        if "error" in response:
            raise FunctionError(logical_id, response["error"]["type"], response["error"]["message"])
        return response["result"]

    def close(self) -> None:
        for logical_id in list(self._workers):
            self._kill(logical_id)

    def _start(self, function: LocalFunction) -> _Worker:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log = (self._log_dir / f"{function.logical_id}.log").open("a", encoding="utf-8")
        process = subprocess.Popen(  # noqa: S603 - runs this interpreter on the template's own handler
            [sys.executable, "-m", "ml_local.lambda_worker", str(REPO_ROOT / function.code_dir), function.handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**self.environment_of(function), "PYTHONPATH": _WORKER_PYTHONPATH},
            cwd=REPO_ROOT,
        )
        return _Worker(process, log)

    @staticmethod
    def _read_line(worker: _Worker, deadline: float) -> str:
        result: list[str] = []
        assert worker.process.stdout is not None
        reader = threading.Thread(target=lambda: result.append(worker.process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout=max(0.0, deadline - time.time()))
        if reader.is_alive():
            raise TimeoutError
        if not result or not result[0]:
            raise BrokenPipeError
        return result[0]

    def _kill(self, logical_id: str) -> None:
        worker = self._workers.pop(logical_id, None)
        if worker is None:
            return
        worker.process.kill()
        worker.process.wait()
        worker.log.close()
