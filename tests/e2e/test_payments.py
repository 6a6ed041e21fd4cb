"""Settled AvidXchange payments posted to Sage 100 as manual checks, once, through the whole system."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from avid_sim.models import PaymentStatus
from avid_sim.payments import InvoicePayment
from ml_connector.domain.payment_mapping import CHECK_NO_PREFIX
from ml_connector.kinds import Stage
from ml_connector.state.models import RunState
from ml_local.session import LocalStack
from sage_agent.records import InvoiceHeaderFields, VendorFields
from sage_agent.simulated.store import Distribution
from tests.support.system import ConnectedCustomer, connected_customer

AMOUNTS = {"7001": "1250.00", "7002": "500.00", "7003": "300.00", "7004": "100.00"}


@pytest.fixture(scope="module")
def paid(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectedCustomer]:
    with connected_customer(stack, tmp_path_factory.mktemp("payments"), "payments-co", seed="empty") as system:
        backend = system.agent.backend
        backend.create_vendor(VendorFields(APDivisionNo="01", VendorNo="ACME", VendorName="Acme Concrete"))
        system.queue(Stage.VENDORS, then=(Stage.GL,))
        system.drain()
        account = next(
            m.source_key
            for m in system.state.iter_mappings(system.customer_id, "gl-account")
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
        for invoice_id in ids.values():
            system.avid.controls.start_approval(invoice_id)
            system.avid.controls.approve(invoice_id)
        controls = system.avid.controls
        system.check = controls.pay([ids["7001"], ids["7002"]], method="Check")  # type: ignore[attr-defined]
        system.ach = controls.pay([InvoicePayment(ids["7003"], Decimal("200.00"))], method="ACH")  # type: ignore[attr-defined]
        system.card = controls.pay([ids["7004"]], method="VirtualCard", status=PaymentStatus.PROCESSING)  # type: ignore[attr-defined]
        system.run(Stage.PAYMENTS, cycle_id="pay-1")
        yield system


def check_in_sage(system: ConnectedCustomer, payment: object) -> object:
    number = payment.number  # type: ignore[attr-defined]
    return system.agent.backend.read_manual_check("A", f"{CHECK_NO_PREFIX}{number}")


def test_a_check_paying_two_invoices_is_one_manual_check_and_closes_both(paid: ConnectedCustomer) -> None:
    check = check_in_sage(paid, paid.check)  # type: ignore[attr-defined]
    assert check is not None
    assert {line.InvoiceNo for line in check.Lines} == {"7001", "7002"}  # type: ignore[attr-defined]
    assert check.PaymentMethod == "check"  # type: ignore[attr-defined]
    assert paid.check.check_number in check.Comment  # type: ignore[attr-defined]
    assert paid.agent.backend.read_open_invoice("01", "ACME", "7001") is None
    assert paid.agent.backend.read_open_invoice("01", "ACME", "7002") is None


def test_a_partial_ach_payment_reduces_the_balance_and_keeps_the_trace_number(paid: ConnectedCustomer) -> None:
    check = check_in_sage(paid, paid.ach)  # type: ignore[attr-defined]
    assert check is not None
    assert check.Reference == paid.ach.ach_trace_number  # type: ignore[attr-defined]
    invoice = paid.agent.backend.read_open_invoice("01", "ACME", "7003")
    assert invoice is not None and invoice.Balance == Decimal("100.00")


def test_a_payment_is_posted_only_once_settled_and_only_once(paid: ConnectedCustomer) -> None:
    assert check_in_sage(paid, paid.card) is None, "still Processing"  # type: ignore[attr-defined]
    paid.avid.controls.set_payment_status(paid.card.payment_id, PaymentStatus.SENT)  # type: ignore[attr-defined]
    run = paid.run(Stage.PAYMENTS, cycle_id="pay-2")
    card = check_in_sage(paid, paid.card)  # type: ignore[attr-defined]
    assert card is not None and card.Reference == paid.card.virtual_card.last4  # type: ignore[attr-defined]
    assert run.counts.synced == 1
    again = paid.run(Stage.PAYMENTS, cycle_id="pay-3")
    assert again.counts.synced == 0 and again.state is RunState.SUCCEEDED


def test_a_lost_post_answer_is_adopted_not_posted_twice(paid: ConnectedCustomer) -> None:
    table = paid.stack.aws.resource("dynamodb").Table(paid.stack.settings().state_table)
    table.delete_item(Key={"pk": f"C#{paid.customer_id}#MAP#payment", "sk": paid.check.payment_id})  # type: ignore[attr-defined]
    run = paid.run(Stage.PAYMENTS, cycle_id="pay-4")
    assert run.counts.synced == 1 and run.counts.failed == 0
    assert "adopted" in paid.audit("payment", paid.check.payment_id)[-1].detail  # type: ignore[attr-defined]


def test_a_payment_voided_after_posting_is_flagged_for_the_ap_team(paid: ConnectedCustomer) -> None:
    paid.avid.controls.void_payment(paid.ach.payment_id)  # type: ignore[attr-defined]
    paid.run(Stage.PAYMENTS, cycle_id="pay-5")
    (failure,) = [f for f in paid.state.list_failures(paid.customer_id) if f.source_key == paid.ach.payment_id]  # type: ignore[attr-defined]
    assert "voided in AvidXchange after it was posted" in failure.error
    paid.run(Stage.PAYMENTS, cycle_id="pay-6")
    (again,) = [f for f in paid.state.list_failures(paid.customer_id) if f.source_key == paid.ach.payment_id]  # type: ignore[attr-defined]
    assert again.attempts == failure.attempts, "flagged once, not on every poll"
