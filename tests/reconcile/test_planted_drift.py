"""Reconciliation against a live agent and AvidXchange simulator over HTTPS, on a company where every kind of drift
is planted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from ml_connector.domain.avid import AvidVendor, EnterpriseCode
from ml_connector.domain.gl_mapping import ACCOUNTING_CODES_GROUP
from ml_connector.domain.payment_mapping import to_manual_check
from ml_connector.domain.sage import ManualCheck, ManualCheckLine, OpenInvoice, PaymentMethod, VendorStatus
from ml_connector.reconcile import page_items, reconcile_customer
from ml_connector.reconcile_report import DriftKind, ReconciliationReport
from tests.reconcile.company import new_invoice, sage_invoices, synced
from tests.reconcile.conftest import Mirrored


def reconcile(mirrored: Mirrored, **options: Any) -> ReconciliationReport:
    return reconcile_customer(
        mirrored.customer, mirrored.agent_client, mirrored.avid_client, mirrored.mappings, **options
    )


def test_a_mirrored_company_is_in_agreement(mirrored: Mirrored) -> None:
    report = reconcile(mirrored)

    assert [line.model_dump() for line in report.lines] == []
    assert report.in_agreement
    assert report.sage.open_invoices == mirrored.invoices == report.avid.invoices == report.connector.invoice_mappings
    assert report.sage.invoice_amount == report.avid.invoice_amount
    assert report.sage.vendors == report.avid.vendors == report.connector.vendor_mappings > 0
    assert report.sage.codes == report.avid.codes > 0
    assert report.summary().by_kind == {}


class Planter:
    """Plants drift on one side or the other, as a person or a failure would, and says what it planted."""

    def __init__(self, mirrored: Mirrored) -> None:
        self.m = mirrored
        self.expected: set[tuple[DriftKind, str]] = set()
        self.amounts: dict[tuple[DriftKind, str], Decimal] = {}
        payable_vendors = {
            v.key
            for v in page_items(lambda c: mirrored.agent_client.vendors_page(updated_since=None, cursor=c))
            if v.vendor_status is VendorStatus.ACTIVE and not v.hold_payment
        }
        self.invoices = iter(
            i
            for i in sage_invoices(mirrored.agent_client)
            if i.balance == i.invoice_amt > 0 and f"{i.ap_division_no}-{i.vendor_no}" in payable_vendors and i.lines
        )
        self.spare_vendors = iter(sorted(payable_vendors))

    def expect(self, kind: DriftKind, subject: str, amount: Decimal | None = None) -> None:
        self.expected.add((kind, subject))
        if amount is not None:
            self.amounts[(kind, subject)] = amount

    def avid_id(self, invoice: OpenInvoice) -> str:
        remote_id = self.m.mappings.by_kind["invoice"][invoice.key].remote_id
        assert remote_id is not None
        return remote_id

    def pay_and_post(self, invoice: OpenInvoice) -> tuple[str, str]:
        """Approve and pay the invoice in AvidXchange and post the payment to Sage as the connector would."""
        self.m.avid.controls.approve(self.avid_id(invoice))
        paid = self.m.avid.controls.pay([self.avid_id(invoice)])
        payment = self.m.avid_client.get_payment(paid.payment_id)
        assert payment is not None
        check = to_manual_check(payment, bank_code="A", open_invoices={invoice.invoice_no: invoice})
        self.m.agent_client.post_manual_check(check)
        return payment.payment_id, check.key

    def plant_everything(self) -> None:
        m, sim, sage = self.m, self.m.avid.state, self.m.agent.backend
        customer_id = m.customer.customer_id

        missing = next(self.invoices)
        del sim.invoices[self.avid_id(missing)]
        self.expect(DriftKind.INVOICE_MISSING_IN_AVID, f"invoice {missing.key}", missing.invoice_amt)

        removed_in_sage = next(self.invoices)
        sage.delete_invoice(removed_in_sage.ap_division_no, removed_in_sage.vendor_no, removed_in_sage.invoice_no)
        self.expect(DriftKind.INVOICE_NOT_OPEN_IN_SAGE, f"invoice {removed_in_sage.key}", removed_in_sage.invoice_amt)

        duplicated = next(self.invoices)
        m.avid_client.create_invoice(new_invoice(duplicated))
        self.expect(DriftKind.INVOICE_DUPLICATED_IN_AVID, f"invoice {duplicated.key}", duplicated.invoice_amt)

        recosted = next(self.invoices)
        sim.invoices[self.avid_id(recosted)].gross_amount += Decimal("10.00")
        self.expect(DriftKind.INVOICE_AMOUNT_DIFFERS, f"invoice {recosted.key}", Decimal("10.00"))

        redated = next(self.invoices)
        sim.invoices[self.avid_id(redated)].invoice_date -= dt.timedelta(days=1)
        self.expect(DriftKind.INVOICE_DATE_DIFFERS, f"invoice {redated.key}")

        moved = next(self.invoices)
        other_vendor = next(v for v in self.spare_vendors if v != f"{moved.ap_division_no}-{moved.vendor_no}")
        sim.invoices[self.avid_id(moved)].vendor_external_code = other_vendor
        self.expect(DriftKind.INVOICE_VENDOR_DIFFERS, f"invoice {moved.key}")

        unposted = next(self.invoices)
        m.avid.controls.approve(self.avid_id(unposted))
        m.avid.controls.pay([self.avid_id(unposted)])
        self.expect(DriftKind.PAYMENT_NOT_POSTED, f"invoice {unposted.key}", unposted.balance)

        paid_by_hand = next(self.invoices)
        m.agent_client.post_manual_check(
            ManualCheck(
                bank_code="A",
                check_no="HAND0001",
                check_date=m.agent.clock.now().date(),
                ap_division_no=paid_by_hand.ap_division_no,
                vendor_no=paid_by_hand.vendor_no,
                payment_method=PaymentMethod.CHECK,
                lines=[
                    ManualCheckLine(
                        invoice_no=paid_by_hand.invoice_no,
                        header_seq_no=paid_by_hand.header_seq_no,
                        amount_paid=Decimal("25.00"),
                    )
                ],
            )
        )
        self.expect(DriftKind.BALANCE_DIFFERS, f"invoice {paid_by_hand.key}", Decimal("25.00"))

        voided = next(self.invoices)
        payment_id, check = self.pay_and_post(voided)
        m.mappings.put_mapping(synced(customer_id, "payment", payment_id, check))
        m.avid.controls.void_payment(payment_id)
        self.expect(DriftKind.CHECK_WITHOUT_PAYMENT, f"manual check {check}")
        # Voiding released the invoice in AvidXchange: it is payable again there while Sage has it paid.
        self.expect(DriftKind.INVOICE_NOT_OPEN_IN_SAGE, f"invoice {voided.key}", voided.invoice_amt)

        check_gone = next(self.invoices)
        payment_id, _ = self.pay_and_post(check_gone)
        m.mappings.put_mapping(synced(customer_id, "payment", payment_id, "A/AXGONE01"))
        self.expect(DriftKind.CHECK_MISSING_IN_SAGE, "manual check A/AXGONE01")

        gone_vendor = next(self.spare_vendors)
        del sim.vendors[gone_vendor]
        self.expect(DriftKind.VENDOR_MISSING_IN_AVID, f"vendor {gone_vendor}")

        m.avid_client.upsert_vendors([AvidVendor(external_vendor_code="01-GHOST", name="Ghost Supply")])
        self.expect(DriftKind.VENDOR_NOT_IN_SAGE, "vendor 01-GHOST")

        renamed = next(self.spare_vendors)
        division, vendor_no = renamed.split("-", 1)
        sage.update_vendor(division, vendor_no, VendorName="Renamed Supply Co")
        self.expect(DriftKind.VENDOR_DIFFERS, f"vendor {renamed}")

        accounts = [
            a
            for a in page_items(lambda c: m.agent_client.gl_accounts_page(updated_since=None, cursor=c))
            if a.status == "A"
        ]
        del sim.enterprise_codes[(ACCOUNTING_CODES_GROUP, accounts[0].account)]
        self.expect(DriftKind.CODE_MISSING_IN_AVID, f"code {ACCOUNTING_CODES_GROUP}/{accounts[0].account}")

        m.avid_client.upsert_enterprise_codes(
            [EnterpriseCode(group_name=ACCOUNTING_CODES_GROUP, code_value="9999-99-999", description="Suspense")]
        )
        self.expect(DriftKind.CODE_NOT_IN_SAGE, f"code {ACCOUNTING_CODES_GROUP}/9999-99-999")

        sage.set_gl_account_status(accounts[1].account_key, "I")
        self.expect(DriftKind.CODE_DIFFERS, f"code {ACCOUNTING_CODES_GROUP}/{accounts[1].account}")


def snapshot(mirrored: Mirrored) -> tuple[object, ...]:
    """Everything reconciliation could change: both systems' records and the connector's mappings."""
    sim = mirrored.avid.state
    with sim.lock:
        avid = [
            [record.wire() for record in records.values()]
            for records in (sim.vendors, sim.enterprise_codes, sim.invoices, sim.payments)
        ]
    agent = mirrored.agent_client
    sage = [
        [r.model_dump(mode="json") for r in sage_invoices(agent)],
        [r.model_dump(mode="json") for r in page_items(lambda c: agent.vendors_page(updated_since=None, cursor=c))],
    ]
    mappings = {kind: dict(by_key) for kind, by_key in mirrored.mappings.by_kind.items()}
    return avid, sage, mappings


def test_every_planted_drift_is_found_with_its_money_and_what_to_do(mirrored: Mirrored) -> None:
    planter = Planter(mirrored)
    planter.plant_everything()
    before = snapshot(mirrored)
    seen: list[tuple[str, int]] = []

    report = reconcile(mirrored, progress=lambda phase, done: seen.append((phase, done)))

    found = {(line.kind, line.subject) for line in report.lines}
    assert found == planter.expected
    assert {kind for kind, _ in found} == set(DriftKind)
    amounts = {(line.kind, line.subject): line.amount for line in report.lines}
    for planted, amount in planter.amounts.items():
        assert amounts[planted] == amount, planted
    for line in report.lines:
        assert line.action and "{customer}" not in line.action
    assert "`mlc run drift-co vendors`" in next(
        line.action for line in report.lines if line.kind is DriftKind.VENDOR_MISSING_IN_AVID
    )
    totals = {t.kind: t for t in report.totals}
    assert totals[DriftKind.INVOICE_NOT_OPEN_IN_SAGE].count == 2
    assert report.summary().drift_count == len(planter.expected)
    assert report.summary().drift_amount == sum((abs(line.amount or Decimal(0)) for line in report.lines), Decimal(0))
    assert report.connector.checks_verified == 1
    assert ("Sage open invoices", report.sage.open_invoices) in seen
    assert ("manual checks", 1) in seen
    assert snapshot(mirrored) == before, "reconciliation wrote to a system or to the mappings"


def test_streaming_in_tiny_runs_finds_the_same_drift(mirrored: Mirrored, tmp_path: Path) -> None:
    Planter(mirrored).plant_everything()

    in_memory = reconcile(mirrored)
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    spilled = reconcile(mirrored, run_size=3, spill_dir=spill_dir)

    assert spilled.lines == in_memory.lines
    assert spilled.totals == in_memory.totals
    assert list(spill_dir.iterdir()) == [], "spilled runs are removed"


def test_lines_are_capped_per_kind_while_totals_count_everything(mirrored: Mirrored) -> None:
    for invoice in list(sage_invoices(mirrored.agent_client))[:5]:
        mirrored.agent.backend.delete_invoice(invoice.ap_division_no, invoice.vendor_no, invoice.invoice_no)

    report = reconcile(mirrored, max_lines_per_kind=2)

    total = next(t for t in report.totals if t.kind is DriftKind.INVOICE_NOT_OPEN_IN_SAGE)
    assert total.count == 5
    assert total.lines_omitted == 3
    assert [line.kind for line in report.lines] == [DriftKind.INVOICE_NOT_OPEN_IN_SAGE] * 2
