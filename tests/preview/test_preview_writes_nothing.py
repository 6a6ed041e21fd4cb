"""`mlc run ID STAGE --dry-run` on the local stack with the agent and the AvidXchange simulator: the preview writes
nothing on either side nor in the state table, and says exactly what the real run then does."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ml_cli.__main__ import main
from ml_connector.kinds import Stage
from ml_local.session import STATE_FILE_NAME, LocalStack
from sage_agent.simulated.generator import CompanyShape
from tests.support.system import ConnectedCustomer, connected_customer

pytestmark = pytest.mark.slow

SMALL_COMPANY = CompanyShape(vendors=12, invoices=30, image_share=0.5)


@pytest.fixture
def system(stack: LocalStack, tmp_path: Path) -> Iterator[ConnectedCustomer]:
    with connected_customer(stack, tmp_path, f"preview-{uuid.uuid4().hex[:8]}", seed=SMALL_COMPANY) as connected:  # type: ignore[arg-type]
        yield connected


def sage_company(system: ConnectedCustomer) -> list[str]:
    with sqlite3.connect(system.agent.backend.db_path) as db:
        return list(db.iterdump())


def avid_company(system: ConnectedCustomer) -> str:
    state = system.avid.state
    with state.lock:
        return repr((state.vendors, state.enterprise_codes, state.invoices, state.payments))


def state_items(system: ConnectedCustomer) -> list[str]:
    table = system.stack.aws.resource("dynamodb").Table(system.stack.settings().state_table)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        items += [i for i in page["Items"] if str(i["pk"]).startswith(f"C#{system.customer_id}")]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(json.dumps(i, sort_keys=True, default=str) for i in items)


def everything(system: ConnectedCustomer) -> tuple[list[str], str, list[str]]:
    return sage_company(system), avid_company(system), state_items(system)


def dry_run(system: ConnectedCustomer, stage: Stage, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    stack_file = system.stack.work_dir / STATE_FILE_NAME
    code = main(["run", system.customer_id, stage.value, "--dry-run", "--json", "--local", str(stack_file)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (preview,) = json.loads(captured.out)["stages"]
    assert preview["complete"]
    return dict(preview)


def test_an_invoices_and_a_payments_preview_write_nothing_and_say_what_the_real_runs_do(
    system: ConnectedCustomer, capsys: pytest.CaptureFixture[str]
) -> None:
    system.run(Stage.VENDORS, cycle_id="vendors")
    system.run(Stage.GL, cycle_id="gl")

    before = everything(system)
    invoices = dry_run(system, Stage.INVOICES, capsys)
    assert everything(system) == before, "the invoices preview wrote something"

    run = system.run(Stage.INVOICES, cycle_id="invoices")
    created = {f"{i.vendor_external_code}/{i.number}" for i in system.avid.state.invoices.values()}
    would_create = {c["source_key"] for c in invoices["changes"] if c["change"] == "create"}
    assert would_create and would_create == created
    assert {c["key"] for c in invoices["calls"] if c["operation"] == "create"} == created
    assert invoices["counts"]["synced"] == run.counts.synced
    would_not = {(o["outcome"], o["source_key"]) for o in invoices["outcomes"]}
    assert len(would_not) == run.counts.skipped + run.counts.waiting + run.counts.failed

    paid = list(system.avid.state.invoices.values())[:3]
    for invoice in paid:
        system.avid.controls.start_approval(invoice.id)
        system.avid.controls.approve(invoice.id)
        system.avid.controls.pay([invoice.id], method="Check")

    before = everything(system)
    payments = dry_run(system, Stage.PAYMENTS, capsys)
    assert everything(system) == before, "the payments preview wrote something"

    system.run(Stage.PAYMENTS, cycle_id="payments")
    posted = [c for c in payments["calls"] if c["operation"] == "post manual check"]
    assert len(posted) == 3
    for call in posted:
        bank, check_no = call["key"].split("/")
        assert system.agent.backend.read_manual_check(bank, check_no) is not None
