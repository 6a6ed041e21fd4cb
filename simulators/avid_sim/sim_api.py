"""The test controls over HTTP under /_sim/ (same token auth), for another process: the demo, an operator."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, ValidationError

from avid_sim.controls import AvidControls
from avid_sim.errors import AvidApiError
from avid_sim.faults import Endpoint, FaultKind
from avid_sim.models import PaymentStatus, WireModel
from avid_sim.payments import ZERO, InvoicePayment
from avid_sim.validation import field_messages, json_body

Body = TypeVar("Body", bound=BaseModel)


class PayLine(WireModel):
    invoice_id: str
    amount: Decimal | None = None
    discount: Decimal = ZERO


class PayRequest(WireModel):
    invoices: list[PayLine] = Field(min_length=1)
    method: str = "Check"
    status: str = "Sent"
    payment_date: dt.date | None = None


class StatusRequest(WireModel):
    status: str


class EndpointRef(WireModel):
    method: str | None = None
    path: str | None = None

    def endpoint(self) -> Endpoint | None:
        if self.method is None and self.path is None:
            return None
        if self.method is None or self.path is None:
            raise AvidApiError(422, "give both Method and Path to target one endpoint, or neither for all")
        return Endpoint(self.method, self.path)


class LatencyRequest(EndpointRef):
    seconds: float = Field(ge=0)


class FaultRequest(EndpointRef):
    kind: FaultKind
    next_calls: int | None = None
    share: float | None = None
    status: int = 503
    retry_after: int = 1
    hold_seconds: float = 5.0
    processed: bool = False


class RateLimitRequest(WireModel):
    per_second: float | None
    """Required; null removes the limit."""
    burst: int | None = None


class ClockRequest(WireModel):
    now: dt.datetime | None = None
    advance_seconds: float | None = None
    resume: bool = False


def _status(name: str) -> PaymentStatus:
    for status in PaymentStatus:
        if status.description.lower() == name.strip().lower():
            return status
    raise AvidApiError(422, f"unknown payment status {name!r}; use one of {[s.description for s in PaymentStatus]}")


async def _parse(request: Request, model: type[Body]) -> Body:
    try:
        return model.model_validate(await json_body(request))
    except ValidationError as exc:
        raise AvidApiError(422, "; ".join(field_messages(exc))) from None


def sim_router(controls: AvidControls) -> APIRouter:
    router = APIRouter(prefix="/_sim")
    invoice_moves = {
        "start-approval": controls.start_approval,
        "approve": controls.approve,
        "reject": controls.reject,
        "void": controls.void_invoice,
    }

    @router.post("/invoices/{invoice_id}/{action}")
    async def move_invoice(invoice_id: str, action: str) -> dict[str, Any]:
        move = invoice_moves.get(action)
        if move is None:
            raise AvidApiError(404, f"unknown invoice action {action!r}; use one of {sorted(invoice_moves)}")
        return move(invoice_id).wire()

    @router.post("/payments", status_code=201)
    async def pay(request: Request) -> dict[str, Any]:
        body = await _parse(request, PayRequest)
        lines = [InvoicePayment(line.invoice_id, line.amount, line.discount) for line in body.invoices]
        try:
            payment = controls.pay(
                lines, method=body.method, status=_status(body.status), payment_date=body.payment_date
            )
        except ValueError as exc:
            raise AvidApiError(422, str(exc)) from None
        return payment.wire()

    @router.post("/payments/{payment_id}/status")
    async def set_payment_status(payment_id: str, request: Request) -> dict[str, Any]:
        body = await _parse(request, StatusRequest)
        return controls.set_payment_status(payment_id, _status(body.status)).wire()

    @router.post("/payments/{payment_id}/void")
    async def void_payment(payment_id: str) -> dict[str, Any]:
        return controls.void_payment(payment_id).wire()

    @router.put("/latency")
    async def set_latency(request: Request) -> dict[str, Any]:
        body = await _parse(request, LatencyRequest)
        controls.set_latency(body.seconds, endpoint=body.endpoint())
        return {"Seconds": body.seconds}

    @router.post("/faults", status_code=201)
    async def add_fault(request: Request) -> dict[str, Any]:
        body = await _parse(request, FaultRequest)
        try:
            controls.inject(
                body.kind,
                next_calls=body.next_calls,
                share=body.share,
                endpoint=body.endpoint(),
                status=body.status,
                retry_after=body.retry_after,
                hold_seconds=body.hold_seconds,
                processed=body.processed,
            )
        except ValueError as exc:
            raise AvidApiError(422, str(exc)) from None
        return body.wire()

    @router.delete("/faults")
    async def reset_faults(seed: int | None = Query(None)) -> dict[str, Any]:
        controls.reset_faults(seed=seed)
        return {"Rules": 0}

    @router.put("/rate-limit")
    async def set_rate_limit(request: Request) -> dict[str, Any]:
        body = await _parse(request, RateLimitRequest)
        try:
            limit = controls.set_rate_limit(body.per_second, body.burst)
        except ValueError as exc:
            raise AvidApiError(422, str(exc)) from None
        if limit is None:
            return {"PerSecond": None, "Burst": None}
        return {"PerSecond": limit.per_second, "Burst": limit.burst}

    @router.get("/stats")
    async def call_stats() -> dict[str, int]:
        return controls.call_stats().wire()

    @router.delete("/stats")
    async def reset_call_stats() -> dict[str, int]:
        controls.reset_call_stats()
        return controls.call_stats().wire()

    @router.put("/clock")
    async def set_clock(request: Request) -> dict[str, Any]:
        body = await _parse(request, ClockRequest)
        clock = controls.state.clock
        if body.resume:
            clock.resume()
        if body.now is not None:
            clock.set(body.now)
        if body.advance_seconds is not None:
            clock.advance(dt.timedelta(seconds=body.advance_seconds))
        return {"Now": clock.now().isoformat().replace("+00:00", "Z")}

    return router
