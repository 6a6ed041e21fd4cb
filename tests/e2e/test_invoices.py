"""The demo company's whole first sync through the system, with stage functions whose time budget runs out after a
page or two: every stage continues across invocations and every open invoice arrives exactly once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest

from ml_connector.adapters.shared_turns import BLOCK_SECONDS
from ml_connector.kinds import Stage
from ml_connector.state.models import RunState
from ml_local.session import LocalStack
from tests.support.crashes import disarm, spend_budget_every
from tests.support.system import ConnectedCustomer, connected_customer

STAGE_FUNCTIONS = {Stage.VENDORS: "VendorsFunction", Stage.GL: "GlFunction", Stage.INVOICES: "InvoicesFunction"}


# Every Nth time-budget check of a stage function finds its budget spent: each invocation gets through a page or
# two (the invoices stage asks once per record), so every stage continues across invocations, whatever the speed.
BUDGET_SPENT_EVERY = {Stage.VENDORS: 1, Stage.GL: 2, Stage.INVOICES: 25}


@pytest.fixture(scope="module")
def first_sync(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ConnectedCustomer, Counter[str]]]:
    with connected_customer(stack, tmp_path_factory.mktemp("first-sync"), "first-sync", agent_page_size=60) as system:
        for stage, function in STAGE_FUNCTIONS.items():
            spend_budget_every(stack.runtime, function, BUDGET_SPENT_EVERY[stage])
        states: Counter[str] = Counter()
        system.queue(Stage.VENDORS, then=(Stage.GL, Stage.INVOICES))
        try:
            while stack.driver.deliver_once().delivered:
                for stage in STAGE_FUNCTIONS:
                    run = system.state.get_run(system.customer_id, stage)
                    if run is not None:
                        states[f"{stage}:{run.state}"] += 1
        finally:
            for function in STAGE_FUNCTIONS.values():
                disarm(stack.runtime, function)
        yield system, states


def test_every_stage_continued_across_invocations_and_finished(
    first_sync: tuple[ConnectedCustomer, Counter[str]],
) -> None:
    system, states = first_sync
    assert states[f"invoices:{RunState.CONTINUING}"] >= 2
    assert states[f"vendors:{RunState.CONTINUING}"] >= 1
    for stage in STAGE_FUNCTIONS:
        run = system.state.get_run(system.customer_id, stage)
        assert run is not None and run.state in (RunState.SUCCEEDED, RunState.PARTIAL), (stage, run)


def test_every_open_invoice_arrives_exactly_once_with_its_image(
    first_sync: tuple[ConnectedCustomer, Counter[str]],
) -> None:
    system, _ = first_sync
    run = system.state.get_run(system.customer_id, Stage.INVOICES)
    assert run is not None
    open_keys = system.agent.backend.open_invoice_keys()
    invoices = list(system.avid.state.invoices.values())
    assert len({(i.vendor_external_code, i.number) for i in invoices}) == len(invoices), "an invoice was created twice"
    # Counts add up over all the continuations: every open invoice reached exactly one final state.
    assert run.counts.synced + run.counts.waiting + run.counts.failed == len(open_keys)
    assert len(invoices) == run.counts.synced
    failures = [f for f in system.state.list_failures(system.customer_id) if f.kind == "invoice"]
    assert len(failures) == run.counts.waiting + run.counts.failed
    # The demo company's held and inactive vendors keep their invoices waiting, each naming its vendor.
    assert run.counts.waiting > 0 and all(f.blocked_by and f.blocked_by.startswith("vendor:") for f in failures)
    with_image = [i for i in invoices if i.has_image]
    assert len(with_image) > 0.75 * len(invoices)
    vendors = system.state.get_run(system.customer_id, Stage.VENDORS)
    assert vendors is not None and vendors.counts.synced == len(system.avid.state.vendors)


def test_the_functions_calls_took_turns_on_the_customers_call_schedule_shared_across_invocations(
    stack: LocalStack, first_sync: tuple[ConnectedCustomer, Counter[str]]
) -> None:
    system, _ = first_sync
    table = stack.aws.resource("dynamodb").Table(stack.settings().state_table)
    schedule = table.get_item(Key={"pk": f"C#{system.customer_id}", "sk": "CALLS#avid"}).get("Item")
    assert schedule is not None
    first_push = min(m.synced_at for m in system.state.iter_mappings(system.customer_id, "invoice") if m.synced_at)
    # Turns were claimed while the invoices went (a block ends within two blocks of its claim: threads may hold
    # turns of the block before it).
    assert first_push.timestamp() < float(schedule["free_at"]) <= time.time() + 2 * BLOCK_SECONDS
