"""Settled AvidXchange payments posted to Sage 100 as manual checks, once, through the whole system.

Each test pays with a customer of its own (its own agent and simulator, on the session's stack), so each runs alone
and in any order."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from avid_sim.models import PaymentRecord, PaymentStatus
from avid_sim.payments import InvoicePayment
from ml_connector.domain.payment_mapping import CHECK_NO_PREFIX
from ml_connector.kinds import Stage
from ml_connector.state.models import FailedRecord, RunState
from ml_local.session import LocalStack
from sage_agent.records import InvoiceHeaderFields, RecordedManualCheck, VendorFields
from sage_agent.simulated.store import Distribution
from tests.support.system import ConnectedCustomer, connected_customer

AMOUNTS = {"7001": "1250.00", "7002": "500.00", "7003": "300.00", "7004": "100.00"}


@dataclass(frozen=True)
class Paid:
    """After one payments run: ``check`` paid 7001 and 7002 in full, ``ach`` paid 200.00 of 7003 (both Sent);
    ``card`` paid 7004 and is still Processing."""

    system: ConnectedCustomer
    check: PaymentRecord
    ach: PaymentRecord
    card: PaymentRecord

    def in_sage(self, payment: PaymentRecord) -> RecordedManualCheck | None:
        return self.system.agent.backend.read_manual_check("A", f"{CHECK_NO_PREFIX}{payment.number}")

    def failures_of(self, payment: PaymentRecord) -> list[FailedRecord]:
        failures = self.system.state.list_failures(self.system.customer_id)
        return [f for f in failures if f.source_key == payment.payment_id]


@pytest.fixture
def paid(stack: LocalStack, tmp_path: Path) -> Iterator[Paid]:
    customer_id = f"payments-{uuid.uuid4().hex[:8]}"
    with connected_customer(stack, tmp_path, customer_id, seed="empty") as system:
        backend = system.agent.backend
        backend.create_vendor(VendorFields(APDivisionNo="01", VendorNo="ACME", VendorName="Acme Concrete"))
        system.queue(Stage.VENDORS, then=(Stage.GL,))
        system.drain()
        account = next(
            m.source_key
            for m in system.state.iter_mappings(customer_id, "gl-account")
            if m.details["account"] == "5010-01-100"
        )
        today = system.agent.clock.now().strftime("%Y%m%d")
        for number, amount in AMOUNTS.items():
            system.agent.clock.advance(dt.timedelta(seconds=5))
            backend.create_invoice(
                InvoiceHeaderFields(
                    APDivisionNo="01", VendorNo="ACME", InvoiceNo=number, InvoiceDate=today, InvoiceDueDate=today
                ),
                [Distribution(account_key=account, amount=Decimal(amount))],
            )
        system.run(Stage.INVOICES, cycle_id="invoices")
        ids = {i.number: i.id for i in system.avid.state.invoices.values()}
        controls = system.avid.controls
        for invoice_id in ids.values():
            controls.start_approval(invoice_id)
            controls.approve(invoice_id)
        payments = Paid(
            system,
            check=controls.pay([ids["7001"], ids["7002"]], method="Check"),
            ach=controls.pay([InvoicePayment(ids["7003"], Decimal("200.00"))], method="ACH"),
            card=controls.pay([ids["7004"]], method="VirtualCard", status=PaymentStatus.PROCESSING),
        )
        system.run(Stage.PAYMENTS, cycle_id="pay-1")
        yield payments


def test_a_check_paying_two_invoices_is_one_manual_check_and_closes_both(paid: Paid) -> None:
    check = paid.in_sage(paid.check)
    assert check is not None
    assert {line.InvoiceNo for line in check.Lines} == {"7001", "7002"}
    assert check.PaymentMethod == "check"
    assert paid.check.check_number is not None and paid.check.check_number in check.Comment
    backend = paid.system.agent.backend
    assert backend.read_open_invoice("01", "ACME", "7001") is None
    assert backend.read_open_invoice("01", "ACME", "7002") is None


def test_a_partial_ach_payment_reduces_the_balance_and_keeps_the_trace_number(paid: Paid) -> None:
    check = paid.in_sage(paid.ach)
    assert check is not None
    assert check.Reference == paid.ach.ach_trace_number
    invoice = paid.system.agent.backend.read_open_invoice("01", "ACME", "7003")
    assert invoice is not None and invoice.Balance == Decimal("100.00")


def test_a_payment_is_posted_only_once_settled_and_only_once(paid: Paid) -> None:
    assert paid.in_sage(paid.card) is None, "still Processing"
    paid.system.avid.controls.set_payment_status(paid.card.payment_id, PaymentStatus.SENT)
    run = paid.system.run(Stage.PAYMENTS, cycle_id="pay-2")
    card = paid.in_sage(paid.card)
    assert paid.card.virtual_card is not None
    assert card is not None and card.Reference == paid.card.virtual_card.last4
    assert run.counts.synced == 1
    again = paid.system.run(Stage.PAYMENTS, cycle_id="pay-3")
    assert again.counts.synced == 0 and again.state is RunState.SUCCEEDED


def test_a_lost_post_answer_is_adopted_not_posted_twice(paid: Paid) -> None:
    system = paid.system
    table = system.stack.aws.resource("dynamodb").Table(system.stack.settings().state_table)
    table.delete_item(Key={"pk": f"C#{system.customer_id}#MAP#payment", "sk": paid.check.payment_id})
    run = system.run(Stage.PAYMENTS, cycle_id="pay-2")
    assert run.counts.synced == 1 and run.counts.failed == 0
    assert "adopted" in system.audit("payment", paid.check.payment_id)[-1].detail


def test_a_payment_voided_after_posting_is_flagged_for_the_ap_team(paid: Paid) -> None:
    paid.system.avid.controls.void_payment(paid.ach.payment_id)
    paid.system.run(Stage.PAYMENTS, cycle_id="pay-2")
    (failure,) = paid.failures_of(paid.ach)
    assert "voided in AvidXchange after it was posted" in failure.error
    paid.system.run(Stage.PAYMENTS, cycle_id="pay-3")
    (again,) = paid.failures_of(paid.ach)
    assert again.attempts == failure.attempts, "flagged once, not on every poll"
