"""A warm Lambda execution environment: imports one handler and serves invocations over a pipe.

Protocol: one JSON line in on stdin ({"event", "request_id", "deadline_ms"}), one JSON line out on the original
stdout ({"result"} or {"error": {"type", "message"}}). The function's own prints and logs go to stderr, which the
runtime writes to the function's log file, as CloudWatch Logs would hold them.

When the runtime names a crash-rule file (ML_LOCAL_CRASH_FILE), the worker hooks the connector's fault points and
dies at the points a test armed (see ``ml_local.crash_rules``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_connector import fault_points
from ml_local.crash_rules import CRASH_EXIT_CODE, CRASH_FILE_VARIABLE, budget_spent, should_crash


@dataclass
class LocalContext:
    """The attributes of the Lambda context object that Powertools and handlers read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def _load_handler(code_dir: Path, handler: str) -> Any:
    module_name, function_name = handler.rsplit(".", 1)
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(module_name, code_dir / f"{module_name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {handler} from {code_dir}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return getattr(module, function_name)


def _install_crash_hook(crash_file: Path) -> None:
    def reach(point: str) -> bool:
        if should_crash(crash_file, point):
            print(f"crash injected at fault point {point}: exiting with {CRASH_EXIT_CODE}", file=sys.stderr, flush=True)
            os._exit(CRASH_EXIT_CODE)
        return point == "budget.check" and budget_spent(crash_file)

    fault_points.install(reach)


def main() -> None:
    code_dir, handler_name = Path(sys.argv[1]), sys.argv[2]
    protocol_out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    crash_file = os.environ.get(CRASH_FILE_VARIABLE)
    if crash_file:
        _install_crash_hook(Path(crash_file))
    handler = _load_handler(code_dir, handler_name)
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    for line in sys.stdin:
        request = json.loads(line)
        context = LocalContext(
            function_name=function_name,
            function_version="$LATEST",
            invoked_function_arn=os.environ["LOCAL_FUNCTION_ARN"],
            memory_limit_in_mb=int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")),
            aws_request_id=request["request_id"],
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name="local",
            deadline_ms=request["deadline_ms"],
        )
        try:
            response: dict[str, Any] = {"result": handler(request["event"], context)}
        except Exception as exc:  # a handler error is reported to the caller, as Lambda does
            traceback.print_exc()
            response = {"error": {"type": type(exc).__name__, "message": str(exc)}}
        protocol_out.write(json.dumps(response, default=str) + "\n")


if __name__ == "__main__":
    main()
