"""Runs the stack's functions locally: warm worker processes per function, with exactly the template's environment.

Like Lambda, a function has up to ``concurrency`` execution environments: an invocation takes an idle warm worker,
starts a new one while the function is below its concurrency, or waits for one to come free. A worker whose
process dies (a crash, the timeout's kill) is discarded; the next invocation starts a fresh one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ml_local.crash_rules import CRASH_FILE_VARIABLE
from ml_local.stack import DeployedStack, LocalFunction
from ml_local.template import REPO_ROOT

# Where the layers would be mounted on Lambda (/opt/python): the project's shared package. Third-party packages come
# from this interpreter's site-packages, pinned by the same requirements as layers/deps.
LAYER_PATHS = (REPO_ROOT / "shared",)
# The worker module itself lives in local/.
_WORKER_PYTHONPATH = os.pathsep.join([*(str(p) for p in LAYER_PATHS), str(REPO_ROOT / "local")])
DEFAULT_CONCURRENCY = 2


class FunctionError(Exception):
    """The handler raised, the process died, or the function timed out; Lambda would report a failed invocation."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.error_type = error_type


@dataclass
class _Worker:
    process: subprocess.Popen[str]
    log: IO[str]

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.log.close()


@dataclass
class _Pool:
    """One function's execution environments."""

    limit: int
    idle: list[_Worker] = field(default_factory=list)
    busy: int = 0
    available: threading.Condition = field(default_factory=threading.Condition)


class LocalLambda:
    """Invokes the deployed functions by logical id, like the Lambda service would.

    ``concurrency`` is every function's limit of simultaneous invocations, or a limit per logical id (functions not
    named get ``DEFAULT_CONCURRENCY``). ``crash_dir`` holds one crash-rule file per function (``<logical id>.json``).
    """

    def __init__(
        self,
        stack: DeployedStack,
        log_dir: Path,
        extra_environment: dict[str, str] | None = None,
        *,
        concurrency: int | Mapping[str, int] = DEFAULT_CONCURRENCY,
        crash_dir: Path | None = None,
    ) -> None:
        self._stack = stack
        self._log_dir = log_dir
        self._extra_environment = extra_environment or {}
        self._concurrency = concurrency
        self._crash_dir = crash_dir
        self._pools: dict[str, _Pool] = {}
        self._lock = threading.Lock()

    def concurrency_of(self, logical_id: str) -> int:
        if isinstance(self._concurrency, int):
            return max(1, self._concurrency)
        return max(1, self._concurrency.get(logical_id, DEFAULT_CONCURRENCY))

    def crash_file_of(self, logical_id: str) -> Path | None:
        return None if self._crash_dir is None else self._crash_dir / f"{logical_id}.json"

    def environment_of(self, function: LocalFunction) -> dict[str, str]:
        """The process environment: the template's variables, the Lambda runtime's own, and the local AWS endpoint."""
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")}
        crash_file = self.crash_file_of(function.logical_id)
        return {
            **base,
            **self._stack.aws.environment(),
            **self._extra_environment,
            **({CRASH_FILE_VARIABLE: str(crash_file)} if crash_file is not None else {}),
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
            "LOCAL_FUNCTION_ARN": f"arn:aws:lambda:{self._stack.aws.region}:123456789012:function:{function.name}",
            **function.environment,
        }

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        function = self._stack.function(logical_id)
        pool = self._pool(logical_id)
        worker = self._acquire(pool, function)
        healthy = False
        try:
            response = self._call(worker, function, event)
            healthy = True
        finally:
            self._release(pool, worker, healthy=healthy)
        if "error" in response:
            raise FunctionError(logical_id, response["error"]["type"], response["error"]["message"])
        return response["result"]

    def close(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            with pool.available:
                idle, pool.idle = pool.idle, []
            for worker in idle:
                worker.stop()

    def _pool(self, logical_id: str) -> _Pool:
        with self._lock:
            pool = self._pools.get(logical_id)
            if pool is None:
                pool = self._pools[logical_id] = _Pool(self.concurrency_of(logical_id))
            return pool

    def _acquire(self, pool: _Pool, function: LocalFunction) -> _Worker:
        with pool.available:
            while not pool.idle and pool.busy >= pool.limit:
                pool.available.wait()
            pool.busy += 1
            if pool.idle:
                return pool.idle.pop()
        try:
            return self._start(function)
        except BaseException:
            with pool.available:
                pool.busy -= 1
                pool.available.notify()
            raise

    @staticmethod
    def _release(pool: _Pool, worker: _Worker, *, healthy: bool) -> None:
        if not healthy:
            worker.stop()
        with pool.available:
            pool.busy -= 1
            if healthy:
                pool.idle.append(worker)
            pool.available.notify()

    def _call(self, worker: _Worker, function: LocalFunction, event: dict[str, Any]) -> dict[str, Any]:
        deadline = time.time() + function.timeout
        request = {"event": event, "request_id": str(uuid.uuid4()), "deadline_ms": int(deadline * 1000)}
        assert worker.process.stdin is not None
        try:
            worker.process.stdin.write(json.dumps(request) + "\n")
            worker.process.stdin.flush()
            line = self._read_line(worker, deadline)
        except BrokenPipeError as exc:
            worker.process.kill()
            code = worker.process.wait()
            raise FunctionError(
                function.logical_id, "Runtime.ExitError", f"the function process exited with code {code}"
            ) from exc
        except TimeoutError as exc:
            raise FunctionError(
                function.logical_id, "Sandbox.Timedout", f"Task timed out after {function.timeout:.2f} seconds"
            ) from exc
        answer: dict[str, Any] = json.loads(line)
        return answer

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
        stdout = worker.process.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=max(0.0, deadline - time.time()))
        if reader.is_alive():
            raise TimeoutError
        if not result or not result[0]:
            raise BrokenPipeError
        return result[0]
