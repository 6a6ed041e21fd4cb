"""Test-only controls: what AvidXchange users and banks would do (approve, pay, clear, void) and what a flaky
network would do (latency, faults); the rate limit AvidXchange enforces, and the counts of calls. Also served
over HTTP under ``/_sim/`` by ``sim_api``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from avid_sim.faults import Endpoint, FaultKind, FaultPlan, FaultRule
from avid_sim.invoices import move_invoice
from avid_sim.models import InvoiceRecord, InvoiceStatus, PaymentMethod, PaymentRecord, PaymentStatus
from avid_sim.payments import InvoicePayment, create_payment, get_payment, set_payment_status
from avid_sim.rate_limit import CallStats, RateLimit, RateLimiter
from avid_sim.state import AvidState, StatusChangeOnPageRead

EndpointLike = Endpoint | tuple[str, str]


class AvidControls:
    def __init__(self, state: AvidState, faults: FaultPlan, rate_limiter: RateLimiter) -> None:
        self.state = state
        self.faults = faults
        self.rate_limiter = rate_limiter

    # --- approval workflow ----------------------------------------------------------------------------------

    def start_approval(self, invoice_id: str) -> InvoiceRecord:
        return move_invoice(self.state, invoice_id, InvoiceStatus.IN_APPROVAL)

    def approve(self, invoice_id: str) -> InvoiceRecord:
        return move_invoice(self.state, invoice_id, InvoiceStatus.APPROVED)

    def reject(self, invoice_id: str) -> InvoiceRecord:
        return move_invoice(self.state, invoice_id, InvoiceStatus.REJECTED)

    def void_invoice(self, invoice_id: str) -> InvoiceRecord:
        return move_invoice(self.state, invoice_id, InvoiceStatus.VOID)

    # --- payments -------------------------------------------------------------------------------------------

    def pay(
        self,
        invoices: Sequence[str | InvoicePayment],
        *,
        method: PaymentMethod | str = PaymentMethod.CHECK,
        status: PaymentStatus = PaymentStatus.SENT,
        payment_date: dt.date | None = None,
    ) -> PaymentRecord:
        """Pay approved invoices of one vendor in one payment; a bare id pays that invoice's whole balance."""
        lines = [line if isinstance(line, InvoicePayment) else InvoicePayment(line) for line in invoices]
        chosen = method if isinstance(method, PaymentMethod) else PaymentMethod.from_description(method)
        return create_payment(self.state, lines, method=chosen, status=status, payment_date=payment_date)

    def set_payment_status(self, payment_id: str, status: PaymentStatus) -> PaymentRecord:
        return set_payment_status(self.state, payment_id, status)

    def clear_payment(self, payment_id: str) -> PaymentRecord:
        return set_payment_status(self.state, payment_id, PaymentStatus.CLEARED)

    def void_payment(self, payment_id: str) -> PaymentRecord:
        return set_payment_status(self.state, payment_id, PaymentStatus.VOID)

    def change_payment_after_page(self, payment_id: str, status: PaymentStatus, *, after_page: int = 1) -> None:
        """Move the payment to ``status`` (Cleared, Void...) right after the next answer of page ``after_page`` of
        a payments listing, i.e. between that page's read and the next one's."""
        if after_page < 1:
            raise ValueError(f"after_page must be 1 or more, not {after_page}")
        get_payment(self.state, payment_id)
        with self.state.lock:
            self.state.payment_page_triggers.append(StatusChangeOnPageRead(after_page, payment_id, status))

    # --- latency and faults ---------------------------------------------------------------------------------

    def set_latency(self, seconds: float, *, endpoint: EndpointLike | None = None) -> None:
        """Delay every /v1 call (or one endpoint's) by ``seconds``; 0 removes it."""
        self.faults.set_latency(seconds, _endpoint(endpoint))

    def inject(
        self,
        kind: FaultKind | str,
        *,
        next_calls: int | None = None,
        share: float | None = None,
        endpoint: EndpointLike | None = None,
        status: int = 503,
        retry_after: int = 1,
        hold_seconds: float = 5.0,
        processed: bool = False,
    ) -> FaultRule:
        """Fail the next ``next_calls`` calls of ``endpoint`` (None: any /v1 endpoint), or a seeded ``share``.

        ``processed=True`` carries the request out before failing: the client cannot tell it happened."""
        return self.faults.add(
            FaultRule(
                kind=FaultKind(kind),
                endpoint=_endpoint(endpoint),
                remaining=next_calls,
                share=share,
                status=status,
                retry_after=retry_after,
                hold_seconds=hold_seconds,
                processed=processed,
            )
        )

    def reset_faults(self, *, seed: int | None = None) -> None:
        """Remove every fault rule and all latency (not the rate limit)."""
        self.faults.reset(seed=seed)

    # --- rate limit and call counts -------------------------------------------------------------------------

    def set_rate_limit(self, per_second: float | None, burst: int | None = None) -> RateLimit | None:
        """Answer /v1 calls beyond ``per_second`` on average, or ``burst`` at once, with 429 and Retry-After.

        ``burst`` defaults to one second's worth of calls (at least 1). The bucket starts full. None: no limit."""
        if per_second is None:
            if burst is not None:
                raise ValueError("a burst needs a rate limit (calls per second)")
            limit = None
        else:
            limit = RateLimit.of(per_second, burst)
        self.rate_limiter.configure(limit)
        return limit

    def call_stats(self) -> CallStats:
        """How many /v1 calls were let through, and how many the rate limit refused, since start or reset."""
        return self.rate_limiter.stats()

    def reset_call_stats(self) -> None:
        self.rate_limiter.reset_stats()


def _endpoint(endpoint: EndpointLike | None) -> Endpoint | None:
    if endpoint is None or isinstance(endpoint, Endpoint):
        return endpoint
    return Endpoint(*endpoint)
