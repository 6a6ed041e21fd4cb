"""Vendors and GL through the whole system: local stack functions, live agent (demo company), live AvidXchange."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from ml_connector.domain.gl_mapping import ACCOUNTING_CODES_GROUP
from ml_connector.kinds import Stage
from ml_connector.state.models import AuditEvent, RunState
from ml_local.session import LocalStack
from tests.support.system import ConnectedCustomer, connected_customer, customer_id_for


@pytest.fixture
def redrock(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[ConnectedCustomer]:
    """A customer of its own for each test, so each runs alone and in any order."""
    with connected_customer(stack, tmp_path_factory.mktemp("refdata"), customer_id_for(request, "refdata")) as system:
        yield system


def test_vendors_first_run_then_nothing_then_exactly_the_one_changed(redrock: ConnectedCustomer) -> None:
    run = redrock.run(Stage.VENDORS)
    assert run.state is RunState.SUCCEEDED, run.message
    avid_vendors = redrock.avid.state.vendors
    assert len(avid_vendors) == run.counts.synced >= 100
    assert run.counts.failed == 0
    on_hold = [v for v in avid_vendors.values() if not v.active]
    assert on_hold, "the demo company has inactive or on-hold vendors; they must arrive deactivated"

    # A second run with no changes sends nothing.
    before = {code: v.last_modified_date for code, v in redrock.avid.state.vendors.items()}
    redrock.agent.clock.advance(dt.timedelta(minutes=30))
    run = redrock.run(Stage.VENDORS, cycle_id="second")
    assert run.state is RunState.SUCCEEDED
    assert run.counts.synced == 0
    assert {code: v.last_modified_date for code, v in redrock.avid.state.vendors.items()} == before

    # Changing one vendor in Sage sends exactly that one.
    vendor = next(v for v in redrock.avid.state.vendors.values() if v.active)
    division, vendor_no = vendor.external_vendor_code.split("-", 1)
    redrock.agent.clock.advance(dt.timedelta(minutes=30))
    redrock.agent.backend.update_vendor(division, vendor_no, VendorName="Renamed Supply Co")
    run = redrock.run(Stage.VENDORS, cycle_id="third")
    assert run.counts.synced == 1
    assert redrock.avid.state.vendors[vendor.external_vendor_code].name == "Renamed Supply Co"
    events = [e.event for e in redrock.audit("vendor", vendor.external_vendor_code)]
    assert events.count(AuditEvent.PUSHED) == 2
    trail = redrock.audit("vendor", vendor.external_vendor_code)
    assert [e.event for e in trail[-3:]] == [AuditEvent.READ, AuditEvent.TRANSFORMED, AuditEvent.PUSHED]
    transformed = [e for e in trail if e.event is AuditEvent.TRANSFORMED]
    assert all(e.sealed_payload is not None and "ciphertext" in e.sealed_payload for e in transformed)
    assert not any("Renamed Supply Co" in e.detail for e in trail), "vendor payloads are stored sealed, never in clear"
    assert trail[-1].remote_id == redrock.avid.state.vendors[vendor.external_vendor_code].id


def test_gl_run_brings_accounts_and_cost_centers(redrock: ConnectedCustomer) -> None:
    run = redrock.run(Stage.GL)
    assert run.state is RunState.SUCCEEDED, run.message
    groups = {group for group, _ in redrock.avid.state.enterprise_codes}
    assert ACCOUNTING_CODES_GROUP in groups
    assert "Cost Center" in groups
    again = redrock.run(Stage.GL, cycle_id="gl-2")
    assert again.counts.synced == 0
