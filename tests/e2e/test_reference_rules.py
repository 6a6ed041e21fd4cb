"""Vendor and GL rules through the whole system, on a company that starts empty (records made per test)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from ml_connector.kinds import Stage
from ml_connector.messages import RecordRetry
from ml_connector.state.models import AuditEvent, RunState
from ml_local.session import LocalStack
from sage_agent.records import VendorFields
from tests.support.system import ConnectedCustomer, connected_customer, customer_id_for, dead_letters


@pytest.fixture
def company(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[ConnectedCustomer]:
    """An empty company of this test's own."""
    customer_id = customer_id_for(request, "rules")
    with connected_customer(stack, tmp_path_factory.mktemp("rules"), customer_id, seed="empty") as system:
        yield system


def add_vendor(system: ConnectedCustomer, vendor_no: str, **fields: str) -> str:
    system.agent.clock.advance(dt.timedelta(minutes=1))
    system.agent.backend.create_vendor(
        VendorFields(
            APDivisionNo=fields.pop("APDivisionNo", "01"),
            VendorNo=vendor_no,
            VendorName=fields.pop("VendorName", f"Vendor {vendor_no}"),
            **fields,
        )
    )
    return vendor_no


def edit_vendor(system: ConnectedCustomer, division: str, vendor_no: str, **changes: str) -> None:
    system.agent.clock.advance(dt.timedelta(minutes=1))
    system.agent.backend.update_vendor(division, vendor_no, **changes)


def test_names_at_their_limit_non_ascii_and_empty_fields_arrive_intact(company: ConnectedCustomer) -> None:
    add_vendor(company, "LONG", VendorName="L" * 30)
    add_vendor(company, "CAFE", VendorName="Café Müller & Söhne Ñandú", APDivisionNo="02")
    add_vendor(company, "BARE", VendorName="Bare", CountryCode="")
    run = company.run(Stage.VENDORS, cycle_id="names")
    assert run.state is RunState.SUCCEEDED, run.message
    vendors = company.avid.state.vendors
    assert vendors["01-LONG"].name == "L" * 30
    assert vendors["02-CAFE"].name == "Café Müller & Söhne Ñandú"
    assert vendors["01-BARE"].email == ""


def test_a_vendor_moved_to_inactive_and_back_is_deactivated_then_reactivated(company: ConnectedCustomer) -> None:
    add_vendor(company, "FLIP")
    company.run(Stage.VENDORS, cycle_id="flip-1")
    assert company.avid.state.vendors["01-FLIP"].active
    edit_vendor(company, "01", "FLIP", VendorStatus="I")
    company.run(Stage.VENDORS, cycle_id="flip-2")
    assert not company.avid.state.vendors["01-FLIP"].active
    edit_vendor(company, "01", "FLIP", VendorStatus="A", HoldPayment="Y")
    company.run(Stage.VENDORS, cycle_id="flip-3")
    assert not company.avid.state.vendors["01-FLIP"].active, "on payment hold"
    edit_vendor(company, "01", "FLIP", HoldPayment="N")
    run = company.run(Stage.VENDORS, cycle_id="flip-4")
    assert company.avid.state.vendors["01-FLIP"].active
    assert run.counts.synced == 1


def test_a_vendor_refused_by_avidxchange_fails_once_alone_and_is_never_queued(company: ConnectedCustomer) -> None:
    add_vendor(company, "BLANK", VendorName="   ")
    add_vendor(company, "FINE")
    run = company.run(Stage.VENDORS, cycle_id="refused")
    assert run.state is RunState.PARTIAL
    assert "01-FINE" in company.avid.state.vendors
    assert "01-BLANK" not in company.avid.state.vendors
    company.drain()
    (failure,) = [f for f in company.state.list_failures(company.customer_id) if f.source_key == "01-BLANK"]
    assert "AvidXchange refused it" in failure.error
    assert (failure.attempts, failure.retryable) == (1, False), "a refusal fails once"
    events = [e.event for e in company.audit("vendor", "01-BLANK")]
    assert events == [AuditEvent.READ, AuditEvent.TRANSFORMED, AuditEvent.FAILED]
    assert [d for d in dead_letters(company.stack) if d["source_key"] == "01-BLANK"] == [], "nothing dead-lettered"

    edit_vendor(company, "01", "BLANK", VendorName="Blank No More")
    company.run(Stage.VENDORS, cycle_id="fixed")
    assert company.avid.state.vendors["01-BLANK"].name == "Blank No More"
    assert not [f for f in company.state.list_failures(company.customer_id) if f.source_key == "01-BLANK"]

    # A replay reads the vendor again by key: the vendor as it is now, never an old copy carried in a message.
    replay = RecordRetry(
        customer_id=company.customer_id, stage=Stage.VENDORS, kind="vendor", source_key="01-BLANK",
        reason="replayed by an operator", first_failed_at=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    retry_queue = company.stack.stack.outputs["RetryQueueUrl"]
    company.stack.aws.client("sqs").send_message(QueueUrl=retry_queue, MessageBody=replay.model_dump_json())
    company.drain()
    assert company.avid.state.vendors["01-BLANK"].name == "Blank No More"
    trail = company.audit("vendor", "01-BLANK")
    assert trail[-1].event is AuditEvent.RETRIED, "read again and found unchanged: nothing sent"

    # The same message once more (an SQS duplicate, a second replay): remembered as done, nothing runs.
    company.stack.aws.client("sqs").send_message(QueueUrl=retry_queue, MessageBody=replay.model_dump_json())
    assert company.drain().succeeded == 1
    assert len(company.audit("vendor", "01-BLANK")) == len(trail)


def test_an_account_on_a_retired_cost_center_keeps_its_own_status(company: ConnectedCustomer) -> None:
    run = company.run(Stage.GL, cycle_id="gl-1")
    assert run.state is RunState.SUCCEEDED, run.message
    codes = company.avid.state.enterprise_codes
    on_300 = [value for (group, value), code in codes.items() if group == "Accounting Codes" and value.endswith("-300")]
    assert on_300 and all(codes[("Accounting Codes", v)].is_active for v in on_300)
    company.agent.clock.advance(dt.timedelta(minutes=5))
    company.agent.backend.set_segment_value_status(3, "300", "I")
    run = company.run(Stage.GL, cycle_id="gl-2")
    assert not codes[("Cost Center", "300")].is_active
    # Sage is the codes' master: the accounts are active in Sage, so they stay active; the cost center is retired.
    assert all(codes[("Accounting Codes", v)].is_active for v in on_300)
    assert run.counts.synced == 1
    assert any(
        codes[("Accounting Codes", v)].is_active
        for (g, v) in codes
        if g == "Accounting Codes" and not v.endswith("-300")
    )
