"""A preview against in-memory fakes: the real stage code runs, and what it would write is reported, not written."""

from __future__ import annotations

from ml_connector.kinds import Stage
from ml_connector.preview import preview_stages
from ml_connector.stages.vendors import sync_vendors
from ml_connector.state.models import MappingState
from tests.fakes import Systems
from tests.support.customers import make_customer
from tests.unit.builders import gl_account
from tests.unit.test_money_paths import cost_center, invoice, vendor


def test_a_vendors_preview_reports_creates_updates_and_deactivations_and_writes_nothing() -> None:
    systems = Systems(customer=make_customer())
    systems.agent.vendors = {v.key: v for v in (vendor("ACME"), vendor("BOLT"))}
    sync_vendors(systems.context())  # ACME and BOLT are in AvidXchange
    systems.agent.vendors["01-BOLT"] = vendor("BOLT", status="I")
    systems.agent.vendors["01-CRANE"] = vendor("CRANE")
    state_before = (dict(systems.state.mappings), list(systems.state.audit), dict(systems.state.cursors))
    avid_before = dict(systems.avid.vendors)

    report = preview_stages(systems.context(), [Stage.VENDORS], clock=lambda: systems.now)

    (preview,) = report.stages
    assert preview.complete
    assert {(c.source_key, c.change) for c in preview.changes} == {("01-BOLT", "update"), ("01-CRANE", "create")}
    assert {(c.key, c.operation) for c in preview.calls} == {("01-BOLT", "deactivate"), ("01-CRANE", "upsert")}
    assert (preview.counts.synced, preview.counts.unchanged) == (2, 1)
    assert (dict(systems.state.mappings), list(systems.state.audit), dict(systems.state.cursors)) == state_before
    assert systems.avid.vendors == avid_before
    assert all(m.state is MappingState.SYNCED for m in systems.state.mappings.values())


def test_a_cycle_preview_sees_what_earlier_stages_would_sync_and_reports_waits_with_their_reason() -> None:
    systems = Systems(customer=make_customer())
    systems.agent.vendors = {v.key: v for v in (vendor("HOLDCO", hold="Y"), vendor("NEWCO"))}
    systems.agent.values = {"3-300": cost_center("300")}
    systems.agent.accounts = {"000000123": gl_account("000000123", "6100-300", cost_center="300")}
    systems.agent.invoices = {
        "01-HOLDCO/GS-3310": invoice("GS-3310", vendor_no="HOLDCO"),
        "01-NEWCO/N-1": invoice("N-1", vendor_no="NEWCO"),
    }

    report = preview_stages(systems.context(), [Stage.VENDORS, Stage.GL, Stage.INVOICES], clock=lambda: systems.now)

    vendors, _, invoices = report.stages
    assert {c.source_key for c in vendors.changes} == {"01-HOLDCO", "01-NEWCO"}
    assert [(c.source_key, c.change) for c in invoices.changes] == [("01-NEWCO/N-1", "create")]
    (waiting,) = invoices.outcomes
    assert (waiting.source_key, waiting.outcome) == ("01-HOLDCO/GS-3310", "waiting")
    assert "payment hold" in waiting.reason
    assert systems.state.failures == {} and systems.state.mappings == {} and systems.avid.invoices == []
