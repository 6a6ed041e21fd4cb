"""The one error the simulator's operations raise; rendered as the contract's ``{exception: ...}`` body."""

from __future__ import annotations

import uuid
from typing import Any

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class AvidApiError(Exception):
    """A non-2xx answer: ``status`` and a ``detail`` that names the record and the fix."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def error_body(status: int, detail: str) -> dict[str, Any]:
    return {
        "exception": {
            "avidMessageId": str(uuid.uuid4()),
            "reason": REASONS.get(status, "Error"),
            "detail": detail,
        }
    }
