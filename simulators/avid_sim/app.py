"""Wires the simulator: token auth, the /v1 and /_sim routers, contract-shaped errors, and the middleware for the
rate limit, latency and fault injection."""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from avid_sim.api import v1_router
from avid_sim.auth import check_tokens
from avid_sim.controls import AvidControls
from avid_sim.errors import AvidApiError, error_body
from avid_sim.fault_middleware import FaultInjectionMiddleware
from avid_sim.settings import SimSettings
from avid_sim.sim_api import sim_router

logger = logging.getLogger("avid_sim")


def create_app(controls: AvidControls, settings: SimSettings) -> ASGIApp:
    app = FastAPI(title="AvidConnect simulator", docs_url=None, redoc_url=None, openapi_url=None)

    def authenticated(request: Request) -> None:
        check_tokens(request, settings)

    app.include_router(v1_router(controls.state, settings), dependencies=[Depends(authenticated)])
    app.include_router(sim_router(controls), dependencies=[Depends(authenticated)])

    @app.exception_handler(AvidApiError)
    async def avid_error(_: Request, exc: AvidApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.status, exc.detail), status_code=exc.status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = str(exc.detail)
        if exc.status_code in (404, 405):
            detail = f"no endpoint {request.method} {request.url.path}; see the AvidConnect contract"
        return JSONResponse(error_body(exc.status_code, detail), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return JSONResponse(error_body(400, detail), status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(500, f"unexpected error: {type(exc).__name__}"), status_code=500)

    return FaultInjectionMiddleware(app, controls.faults, controls.rate_limiter)
