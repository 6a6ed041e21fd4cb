"""What each Lambda handler answers, exactly, for all-good, one-bad and all-bad batches (as the Powertools examples
assert it), run on in-memory fakes of every port installed with ``bootstrap.use``.

The retry queue is a standard queue: a failed record is reported by id (never a function error) and its next
delivery is pushed out. The work and reconcile queues are FIFO: a record that fails fails every record after it in
the batch, and a batch that failed whole is a function error (SQS delivers the message group again).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError, SQSFifoCircuitBreakerError
from aws_lambda_powertools.utilities.typing import LambdaContext

from ml_connector import bootstrap, observability
from ml_connector.customers import InvalidCustomer, parse_customer_item
from ml_connector.errors import AgentAuthFailed, AgentOffline, AvidRejected, RetryLater
from ml_connector.handlers import retry
from ml_connector.handlers.dispatcher import dispatcher_handler
from ml_connector.handlers.ping import ping_handler
from ml_connector.handlers.retry import retry_handler
from ml_connector.handlers.review import review_handler
from ml_connector.handlers.work import work_handler
from ml_connector.kinds import Stage
from ml_connector.messages import RecordRetry, ReviewOrder, WorkOrder
from ml_connector.ports import Backlog
from ml_connector.stages.gl import sync_gl
from ml_connector.stages.retry import next_delivery_delay
from ml_connector.stages.vendors import sync_vendors
from ml_connector.state.history import ReviewTask
from ml_connector.state.models import CustomerHealth, HealthStatus, RunState
from tests.fakes import FakeAdapters, Systems
from tests.support.customers import customer_item, make_customer
from tests.unit.builders import gl_account, open_invoice, sage_vendor, segment_value

EVENTS = Path(__file__).resolve().parents[2] / "events"
CUSTOMER = "acme-build"
T0 = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)
NO_FAILURES: dict[str, Any] = {"batchItemFailures": []}

# A handler that recorded no figure of its own says so; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


class InvocationContext(LambdaContext):
    """The parts of Lambda's context the handlers and Powertools read."""

    def __init__(self, request_id: str = "req-1", remaining_ms: int = 600_000) -> None:
        self._function_name = "ml-connector-test"
        self._function_version = "$LATEST"
        self._invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ml-connector-test"
        self._memory_limit_in_mb = 512
        self._aws_request_id = request_id
        self._log_group_name = "/aws/lambda/ml-connector-test"
        self._log_stream_name = "test"
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]  # Powertools declares it static
        return self.remaining_ms


def sqs_record(queue: str, n: int, body: str, *, receive_count: int = 1) -> dict[str, Any]:
    """Message ``n`` of ``queue`` (``retry``, ``reconcile`` or a stage), shaped like the sample event in events/."""
    record: dict[str, Any] = json.loads((EVENTS / f"{queue}.json").read_text())["Records"][0]
    record.update(
        messageId=f"msg-{n}",
        receiptHandle=f"handle-{n}",
        body=body,
        md5OfBody=hashlib.md5(body.encode()).hexdigest(),
    )
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    if "MessageGroupId" in record["attributes"]:
        record["attributes"].update(
            MessageGroupId=CUSTOMER, MessageDeduplicationId=f"dedup-{n}", SequenceNumber=f"1880000000000000000{n}"
        )
    return record


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def failures(*ids: str) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}


def raised(error: BatchProcessingError) -> list[type[BaseException] | None]:
    """What each record of a batch that failed whole raised, in order."""
    return [kind for kind, _, _ in error.child_exceptions]


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAdapters]:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "ml-connector")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "MLConnector")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon, as in the local stack
    # The shared Metrics object read the namespace when it was imported.
    monkeypatch.setattr(observability.metrics, "namespace", "MLConnector")
    fakes = FakeAdapters()
    bootstrap.use(fakes)
    retry._run_retry_once.cache_clear()
    yield fakes
    bootstrap.use(None)
    retry._run_retry_once.cache_clear()


@pytest.fixture
def acme(deployment: FakeAdapters) -> Systems:
    """A customer with two vendors in Sage."""
    systems = deployment.connect(make_customer(CUSTOMER))
    systems.agent.vendors = {"01-ACME": sage_vendor("ACME"), "01-BOLT": sage_vendor("BOLT")}
    return systems


# -- retry -----------------------------------------------------------------------------------------------------------


def vendor_retry(vendor_key: str, customer_id: str = CUSTOMER) -> str:
    return RecordRetry(
        customer_id=customer_id,
        stage=Stage.VENDORS,
        kind="vendor",
        source_key=vendor_key,
        reason="AvidXchange unavailable (503)",
        first_failed_at=T0,
    ).model_dump_json()


def retry_event(*bodies: str) -> dict[str, Any]:
    """Retries delivered for the 2nd, 3rd, ... time."""
    return sqs_event(*(sqs_record("retry", n, body, receive_count=n + 1) for n, body in enumerate(bodies, 1)))


@pytest.mark.parametrize(
    ("refusals", "failed"),
    [(0, ()), (1, ("msg-1",)), (2, ("msg-1", "msg-2"))],
    ids=["all-good", "one-bad", "all-bad"],
)
def test_retry_reports_each_failed_record_and_pushes_its_next_delivery_out(
    deployment: FakeAdapters, acme: Systems, refusals: int, failed: tuple[str, ...]
) -> None:
    acme.avid.faults.fail_next("upsert_vendors", *[RetryLater("AvidXchange unavailable (503)")] * refusals)

    response = retry_handler()(retry_event(vendor_retry("01-ACME"), vendor_retry("01-BOLT")), InvocationContext())

    assert response == failures(*failed)  # all-bad too: an answer, not a function error
    receive_counts = {"msg-1": 2, "msg-2": 3}
    assert deployment.retry_delay.delays == [
        (f"handle-{i.removeprefix('msg-')}", next_delivery_delay(receive_counts[i])) for i in failed
    ]
    assert len(acme.avid.vendors) == 2 - refusals
    still_failing = {f.source_key for f in deployment.state.list_failures(CUSTOMER) if f.retryable}
    assert len(still_failing) == refusals
    assert deployment.retries.sent == [], "a failed retry stays on its own message, never queued again"


def test_a_retry_message_that_cannot_be_read_fails_alone(deployment: FakeAdapters, acme: Systems) -> None:
    response = retry_handler()(retry_event("{not json", vendor_retry("01-ACME")), InvocationContext())

    assert response == failures("msg-1")
    assert list(acme.avid.vendors) == ["01-ACME"]
    # Nothing ran, so there is nothing to back off from: it is redelivered as it is, then dead-lettered.
    assert deployment.retry_delay.delays == []


def test_a_retry_for_a_customer_without_a_customer_item_fails_and_backs_off(deployment: FakeAdapters) -> None:
    response = retry_handler()(retry_event(vendor_retry("01-ACME", customer_id="gone-co")), InvocationContext())

    assert response == failures("msg-1")
    assert deployment.retry_delay.delays == [("handle-1", next_delivery_delay(2))]


def test_a_paused_customers_retries_are_parked_without_calling_its_systems(
    deployment: FakeAdapters, acme: Systems
) -> None:
    now = dt.datetime.now(dt.UTC)
    deployment.state.put_health(
        CustomerHealth(
            customer_id=CUSTOMER,
            status=HealthStatus.AGENT_OFFLINE,
            since=now,
            retry_at=now + dt.timedelta(hours=1),
            consecutive_failures=1,
        )
    )

    response = retry_handler()(retry_event(vendor_retry("01-ACME")), InvocationContext())

    assert response == NO_FAILURES
    assert deployment.retry_delay.delays == [] and deployment.opened == []
    (parked,) = deployment.state.list_failures(CUSTOMER)
    assert (parked.source_key, parked.parked) == ("01-ACME", True)


def test_a_customer_found_unreachable_by_a_retry_is_paused_and_the_record_parked(
    deployment: FakeAdapters, acme: Systems
) -> None:
    deployment.open_errors[CUSTOMER] = AgentOffline("agent unreachable: connection refused")

    response = retry_handler()(retry_event(vendor_retry("01-ACME")), InvocationContext())

    assert response == NO_FAILURES
    assert deployment.retry_delay.delays == []
    health = deployment.state.get_health(CUSTOMER)
    assert health is not None and health.status is HealthStatus.AGENT_OFFLINE
    assert [(f.source_key, f.parked) for f in deployment.state.list_failures(CUSTOMER)] == [("01-ACME", True)]


def test_a_duplicate_delivery_within_the_window_is_answered_without_the_systems(
    deployment: FakeAdapters, acme: Systems
) -> None:
    same = vendor_retry("01-ACME")

    assert retry_handler()(retry_event(same, same), InvocationContext()) == NO_FAILURES
    assert deployment.opened == [CUSTOMER], "the second delivery got the first one's answer"

    deployment.idempotency.expire_records()  # the duplicate window has passed: a later retry runs again
    assert retry_handler()(retry_event(same), InvocationContext(request_id="req-2")) == NO_FAILURES
    assert deployment.opened == [CUSTOMER, CUSTOMER]


def test_a_delivery_of_a_record_another_worker_is_retrying_fails_and_comes_back_later(
    deployment: FakeAdapters,
) -> None:
    systems = deployment.connect(make_customer(CUSTOMER))
    systems.agent.vendors = {"01-ACME": sage_vendor("ACME")}
    systems.agent.values = {"3-300": segment_value("300")}
    systems.agent.accounts = {"000000123": gl_account("000000123", "6100-300")}
    sync_vendors(systems.context())
    sync_gl(systems.context())
    systems.agent.invoices = {"01-ACME/10045": open_invoice("10045")}
    body = RecordRetry(
        customer_id=CUSTOMER, stage=Stage.INVOICES, kind="invoice", source_key="01-ACME/10045", reason="503",
        first_failed_at=T0,
    ).model_dump_json()  # fmt: skip
    concurrent: list[dict[str, Any]] = []

    def second_delivery_meanwhile(_: Any) -> None:
        event = sqs_event(sqs_record("retry", 2, body, receive_count=1))
        concurrent.append(retry_handler()(event, InvocationContext(request_id="req-2")))

    systems.avid.before_create = second_delivery_meanwhile

    first = retry_handler()(sqs_event(sqs_record("retry", 1, body, receive_count=1)), InvocationContext())

    assert first == NO_FAILURES
    assert concurrent == [failures("msg-2")]
    assert deployment.retry_delay.delays == [("handle-2", next_delivery_delay(1))]
    assert [i.number for i in systems.avid.invoices] == ["10045"]


# -- work (FIFO) -----------------------------------------------------------------------------------------------------


def order(stage: Stage = Stage.VENDORS, *, then: tuple[Stage, ...] = (Stage.GL, Stage.INVOICES)) -> WorkOrder:
    return WorkOrder(customer_id=CUSTOMER, stage=stage, cycle_id="cycle-1", then=then)


BAD_WORK_ORDERS = {
    "invalid JSON": '{"customer_id": "acme-build", "stage": ',
    "order for another stage": order(Stage.GL, then=()).model_dump_json(),
    "unknown field": json.dumps({**order().model_dump(mode="json"), "priority": "high"}),
}


def work_event(*bodies: str) -> dict[str, Any]:
    return sqs_event(*(sqs_record("vendors", n, body) for n, body in enumerate(bodies, 1)))


def test_a_good_work_order_runs_its_stage_and_queues_the_next_one(deployment: FakeAdapters, acme: Systems) -> None:
    response = work_handler(Stage.VENDORS, sync_vendors)(work_event(order().model_dump_json()), InvocationContext())

    assert response == NO_FAILURES
    assert deployment.work.sent == [order(Stage.GL, then=(Stage.INVOICES,))]
    assert sorted(acme.avid.vendors) == ["01-ACME", "01-BOLT"]
    run = deployment.state.get_run(CUSTOMER, Stage.VENDORS)
    assert run is not None and (run.state, run.counts.synced) == (RunState.SUCCEEDED, 2)


@pytest.mark.parametrize("bad", BAD_WORK_ORDERS.values(), ids=BAD_WORK_ORDERS.keys())
def test_a_bad_work_message_after_a_good_one_is_reported_by_id(
    deployment: FakeAdapters, acme: Systems, bad: str
) -> None:
    response = work_handler(Stage.VENDORS, sync_vendors)(
        work_event(order().model_dump_json(), bad), InvocationContext()
    )

    assert response == failures("msg-2")
    assert deployment.work.sent == [order(Stage.GL, then=(Stage.INVOICES,))]


@pytest.mark.parametrize("bad", BAD_WORK_ORDERS.values(), ids=BAD_WORK_ORDERS.keys())
def test_a_bad_work_message_fails_every_message_after_it_and_so_the_whole_batch(
    deployment: FakeAdapters, acme: Systems, bad: str
) -> None:
    with pytest.raises(BatchProcessingError) as failed:
        work_handler(Stage.VENDORS, sync_vendors)(work_event(bad, order().model_dump_json()), InvocationContext())

    # Every record failed: the function fails, and SQS delivers both again, in order.
    assert raised(failed.value)[1:] == [SQSFifoCircuitBreakerError]
    assert deployment.work.sent == [] and acme.avid.vendors == {}, "the order behind the bad one did not run"


def test_a_stage_that_cannot_run_now_is_recorded_failed_and_its_order_delivered_again(
    deployment: FakeAdapters, acme: Systems
) -> None:
    deployment.open_errors[CUSTOMER] = RetryLater("agent busy (503)")

    with pytest.raises(BatchProcessingError) as failed:
        work_handler(Stage.VENDORS, sync_vendors)(work_event(order().model_dump_json()), InvocationContext())

    assert raised(failed.value) == [RetryLater]
    run = deployment.state.get_run(CUSTOMER, Stage.VENDORS)
    assert run is not None and run.state is RunState.FAILED
    assert deployment.work.sent == []


def test_a_run_with_refused_records_succeeds_and_alerts_the_new_kind_of_failure_once(
    deployment: FakeAdapters, acme: Systems
) -> None:
    acme.avid.faults.fail_next("upsert_vendors", AvidRejected("TaxID is not valid"))
    handler = work_handler(Stage.VENDORS, sync_vendors)

    assert handler(work_event(order().model_dump_json()), InvocationContext()) == NO_FAILURES

    run = deployment.state.get_run(CUSTOMER, Stage.VENDORS)
    assert run is not None and (run.state, run.counts.failed) == (RunState.PARTIAL, 2)
    (alert,) = deployment.alerts.published
    assert alert[0] == f"ml-connector: new failure for {CUSTOMER}: vendors vendor"
    assert deployment.work.sent == [order(Stage.GL, then=(Stage.INVOICES,))]


# -- review (FIFO) ---------------------------------------------------------------------------------------------------


def review_event(*bodies: str) -> dict[str, Any]:
    return sqs_event(*(sqs_record("reconcile", n, body) for n, body in enumerate(bodies, 1)))


RECONCILE = ReviewOrder(customer_id=CUSTOMER, task=ReviewTask.RECONCILE, cycle_id="cycle-1").model_dump_json()


def test_a_good_review_order_keeps_its_result(deployment: FakeAdapters, acme: Systems) -> None:
    assert review_handler()(review_event(RECONCILE), InvocationContext()) == NO_FAILURES

    review = deployment.state.get_review(CUSTOMER, ReviewTask.RECONCILE)
    assert review is not None and review.finished_at is not None
    assert (review.ok, review.message) == (False, "2 differences"), "neither Sage vendor is in AvidXchange yet"
    assert review.summary["by_kind"] == {"vendor_missing_in_avid": 2}


def test_a_review_of_an_unreachable_customer_keeps_a_result_saying_so(deployment: FakeAdapters, acme: Systems) -> None:
    deployment.open_errors[CUSTOMER] = AgentOffline("agent unreachable: connection refused")

    assert review_handler()(review_event(RECONCILE), InvocationContext()) == NO_FAILURES

    review = deployment.state.get_review(CUSTOMER, ReviewTask.RECONCILE)
    assert review is not None
    assert (review.ok, review.message) == (False, "not run: agent unreachable: connection refused")


def test_a_review_for_an_unknown_customer_is_skipped(deployment: FakeAdapters) -> None:
    assert review_handler()(review_event(RECONCILE), InvocationContext()) == NO_FAILURES
    assert deployment.state.reviews == {} and deployment.opened == []


BAD_REVIEW_ORDERS = {
    "invalid JSON": "{",
    "unknown task": json.dumps({"customer_id": CUSTOMER, "task": "audit", "cycle_id": "c"}),
}


@pytest.mark.parametrize("bad", BAD_REVIEW_ORDERS.values(), ids=BAD_REVIEW_ORDERS.keys())
def test_a_bad_review_message_after_a_good_one_is_reported_by_id(
    deployment: FakeAdapters, acme: Systems, bad: str
) -> None:
    assert review_handler()(review_event(RECONCILE, bad), InvocationContext()) == failures("msg-2")
    assert list(deployment.state.reviews) == [(CUSTOMER, ReviewTask.RECONCILE)]


@pytest.mark.parametrize("bad", BAD_REVIEW_ORDERS.values(), ids=BAD_REVIEW_ORDERS.keys())
def test_a_bad_review_message_fails_every_message_after_it_and_so_the_whole_batch(
    deployment: FakeAdapters, acme: Systems, bad: str
) -> None:
    with pytest.raises(BatchProcessingError) as failed:
        review_handler()(review_event(bad, RECONCILE), InvocationContext())
    assert raised(failed.value)[1:] == [SQSFifoCircuitBreakerError]
    assert deployment.state.reviews == {}


# -- dispatcher and ping ---------------------------------------------------------------------------------------------


def test_the_dispatcher_returns_its_cycle_report(deployment: FakeAdapters) -> None:
    deployment.connect(make_customer(CUSTOMER))
    bad = parse_customer_item(customer_item("broken-co", bank_code="AB"))
    assert isinstance(bad, InvalidCustomer)
    deployment.customers.invalid.append(bad)
    deployment.backlog.backlog = Backlog(retrying=3, dead_lettered=1)

    response = dispatcher_handler()({"source": "ml-connector.schedule"}, InvocationContext(request_id="cycle-7"))

    assert response == {
        "cycle_id": "cycle-7",
        "customers": 2,
        "queued": [f"{CUSTOMER}:vendors>gl>invoices>payments"],
        "invalid": ["customer broken-co: bank_code: String should match pattern '^[A-Z0-9]$'"],
        "paused": [],
        "agent_unreachable": [],
        "in_flight": [],
        "overdue": [],
        "deferred": 0,
        "reviews": [f"{CUSTOMER}:reconcile"],
    }
    assert [(o.stage, o.cycle_id) for o in deployment.work.sent] == [(Stage.VENDORS, "cycle-7")]
    assert [(o.customer_id, o.task) for o in deployment.reviews.sent] == [(CUSTOMER, ReviewTask.RECONCILE)]


def test_ping_reports_both_systems_of_a_valid_customer(deployment: FakeAdapters, acme: Systems) -> None:
    response = ping_handler()({"customer_id": CUSTOMER}, InvocationContext())

    assert isinstance(response.pop("agent_clock_offset_seconds"), float)
    assert response == {
        "customer_id": CUSTOMER,
        "ok": True,
        "agent": {
            "ok": True,
            "detail": "agent 1, Sage 2024, company RCC Redrock, AP divisions on, bank codes A",
        },
        "avid": {"ok": True, "detail": "AvidXchange company C-1 Redrock"},
    }


def test_ping_says_what_refused_the_credentials(deployment: FakeAdapters, acme: Systems) -> None:
    deployment.open_errors[CUSTOMER] = AgentAuthFailed("the agent refused the agent key (401)")
    refused = {"ok": False, "detail": "the agent refused the agent key (401)"}

    response = ping_handler()({"customer_id": CUSTOMER}, InvocationContext())

    assert response == {
        "customer_id": CUSTOMER,
        "ok": False,
        "agent": refused,
        "avid": refused,
        "agent_clock_offset_seconds": None,
    }


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"customer_id": "broken-co"}, "customer broken-co: bank_code: String should match pattern '^[A-Z0-9]$'"),
        ({"customer_id": "nobody"}, "customer 'nobody' has no customer item"),
        ({}, "customer '' has no customer item"),
    ],
    ids=["invalid", "unknown", "missing"],
)
def test_ping_names_the_problem_with_the_customer_item(
    deployment: FakeAdapters, event: dict[str, Any], problem: str
) -> None:
    bad = parse_customer_item(customer_item("broken-co", bank_code="AB"))
    assert isinstance(bad, InvalidCustomer)
    deployment.customers.invalid.append(bad)

    response = ping_handler()(event, InvocationContext())

    assert response == {"customer_id": event.get("customer_id", ""), "ok": False, "problem": problem}
    assert deployment.opened == []
