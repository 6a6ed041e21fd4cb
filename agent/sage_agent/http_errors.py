"""The contract's error bodies, for every non-2xx the agent answers, and their OpenAPI declarations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from sage_agent.backend import AlreadyExists, BackendError, BackendFailure, Busy, RecordLocked, WriteRefused
from sage_agent.records import RecordedManualCheck, dotted_field

log = logging.getLogger("sage_agent")


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    retryable: bool
    fields: list[FieldError] | None = None
    existing: RecordedManualCheck | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """An error the HTTP layer itself decides (auth, routing, malformed query, unknown record)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    fields: list[FieldError] | None = None,
    existing: RecordedManualCheck | None = None,
    retry_after: int | None = None,
) -> JSONResponse:
    detail = ErrorDetail(
        code=code, message=message, retryable=status in (423, 500, 503), fields=fields, existing=existing
    )
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    content = ErrorBody(error=detail).model_dump(mode="json", exclude_none=True)
    return JSONResponse(content, status_code=status, headers=headers)


def backend_error_response(error: BackendError) -> JSONResponse:
    if isinstance(error, RecordLocked):
        return error_response(423, "record_locked", error.message, retry_after=error.retry_after)
    if isinstance(error, Busy):
        return error_response(503, "busy", error.message, retry_after=error.retry_after)
    if isinstance(error, WriteRefused):
        fields = [FieldError(field=p.field, message=p.message) for p in error.fields]
        return error_response(422, "validation_failed", error.message, fields=fields)
    if isinstance(error, AlreadyExists):
        return error_response(409, "already_exists", error.message, existing=error.existing)
    assert isinstance(error, BackendFailure)
    return error_response(500, "boi_error", error.message)


def validation_error_response(error: RequestValidationError) -> JSONResponse:
    """Query/path problems and unreadable bodies: 400. Body field problems: 422 with ``fields``."""
    errors: list[dict[str, Any]] = list(error.errors())
    outside_body = [e for e in errors if not e.get("loc") or e["loc"][0] != "body"]
    if outside_body:
        message = "; ".join(f"{dotted_field(tuple(e['loc']))}: {e['msg']}" for e in outside_body)
        return error_response(400, "bad_request", f"malformed request: {message}")
    if any(len(e["loc"]) == 1 or e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "bad_request", "the body must be a JSON object (UTF-8) as the contract describes")
    fields = [FieldError(field=dotted_field(tuple(e["loc"][1:])), message=str(e["msg"])) for e in errors]
    summary = "; ".join(f"{f.field}: {f.message}" for f in fields)
    return error_response(422, "validation_failed", f"the body was refused: {summary}", fields=fields)


class Utf8JsonRoute(APIRoute):
    """Refuses a body that is not UTF-8 (a JSON parser would otherwise detect and accept UTF-16 or UTF-32)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def utf8_only(request: Request) -> Response:
            body = await request.body()
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(400, "bad_request", "the body is not UTF-8; send JSON encoded as UTF-8") from None
            if b"\x00" in body:
                raise ApiError(400, "bad_request", "the body holds NUL bytes (UTF-16 or UTF-32?); send UTF-8 JSON")
            return await handler(request)

        return utf8_only


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error_response(error.status, error.code, error.message)

    async def on_backend_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, BackendError)
        return backend_error_response(error)

    async def on_validation_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return validation_error_response(error)

    async def on_http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 404:
            return error_response(404, "no_such_endpoint", f"no such endpoint: {request.method} {request.url.path}")
        if error.status_code == 405:
            return error_response(405, "bad_request", f"{request.method} is not allowed on {request.url.path}")
        return error_response(error.status_code, "bad_request", str(error.detail))

    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected failure on %s %s", request.method, request.url.path)
        return error_response(500, "boi_error", f"unexpected agent failure: {type(error).__name__}: {error}")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(BackendError, on_backend_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}
_DESCRIPTIONS = {
    400: "bad_request: malformed query, path or body",
    401: "unauthorized: X-Agent-Key missing or wrong",
    404: "company_not_found, not_found (no such record) or no_such_endpoint (no such path)",
    409: "already_exists: a manual check with that BankCode+CheckNo exists (body has `existing`)",
    422: "validation_failed: the write was refused (`fields` lists why)",
    423: "record_locked: BOI lock (Record/file busy)",
    500: "boi_error: any other BOI failure",
    503: "busy: all BOI sessions in use",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses, all with the contract's error body."""
    return {
        status: {
            "model": ErrorBody,
            "description": _DESCRIPTIONS[status],
            **({"headers": _RETRY_AFTER} if status in (423, 503) else {}),
        }
        for status in statuses
    }
