"""Open invoices with their images through the whole system, after vendors and GL (the cycle's order)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ml_connector.stage import Stage
from ml_connector.state.models import RunState
from ml_local.session import LocalStack
from tests.support.system import ConnectedCustomer, connected_customer


@pytest.fixture(scope="module")
def redrock(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectedCustomer]:
    with connected_customer(stack, tmp_path_factory.mktemp("invoices"), "invoices-redrock") as system:
        system.queue(Stage.VENDORS, then=(Stage.GL, Stage.INVOICES))
        system.drain()
        yield system


def test_the_demo_companys_open_invoices_arrive_once_with_their_images(redrock: ConnectedCustomer) -> None:
    run = redrock.state.get_run(redrock.customer_id, Stage.INVOICES)
    assert run is not None
    assert run.state in (RunState.SUCCEEDED, RunState.PARTIAL), run.message
    open_keys = redrock.agent.backend.open_invoice_keys()
    invoices = list(redrock.avid.state.invoices.values())
    pushed = {(i.vendor_external_code, i.number) for i in invoices}
    assert len(pushed) == len(invoices), "an invoice was created twice"
    assert run.counts.synced + run.counts.failed + run.counts.skipped + run.counts.waiting == len(open_keys)
    assert len(invoices) == run.counts.synced
    with_image = [i for i in invoices if i.has_image]
    assert len(with_image) > 0.5 * len(invoices)
    print(run.counts, run.message)
