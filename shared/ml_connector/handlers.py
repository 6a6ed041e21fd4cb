"""The Lambda entry points' shared shape: Powertools decorators, parse the SQS batch, run one use case per record.

Each functions/<name>/app.py is one line that picks its handler from here, so the eight functions cannot drift.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from ml_connector import bootstrap
from ml_connector.adapters.alert_topic import AlertSettings, SnsAlertTopic
from ml_connector.adapters.queue_backlog import BacklogQueues, SqsBacklog
from ml_connector.adapters.review_queue import ReviewQueueSettings, SqsReviewQueue
from ml_connector.alerts import publish_new_failure_kinds
from ml_connector.customers import Customer
from ml_connector.dispatch import dispatch_cycle
from ml_connector.errors import CustomerUnavailable
from ml_connector.health import is_paused, pause
from ml_connector.observability import logger, metrics, record_dispatch, record_review, record_run, tracer
from ml_connector.ping import ping_customer
from ml_connector.retries import RecordRetry
from ml_connector.reviews import ReviewDispatch, ReviewOrder, fully_synced, run_review
from ml_connector.stage import Stage
from ml_connector.stages.context import TimeBudget, utc_now
from ml_connector.stages.retry import park, retry_record
from ml_connector.state.history import ReviewRecord
from ml_connector.work import WorkOrder

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

# A failed record's next delivery waits 2, 6, 18, 54, ... minutes (capped at SQS's 12 hours).
RETRY_BASE_SECONDS = 120
RETRY_FACTOR = 3
RETRY_MAX_SECONDS = 12 * 60 * 60
# The dispatcher stops taking new customers this long before its timeout (the rest go on the next tick).
DISPATCH_RESERVE_MS = 30_000
# How long a succeeded retry answers a duplicate delivery of the same record without running it again.
RETRY_DUPLICATE_WINDOW_SECONDS = 5 * 60


def _instrumented(function: Handler) -> Handler:
    wrapped: Handler = logger.inject_lambda_context(log_event=False)(function)
    wrapped = tracer.capture_lambda_handler(wrapped)
    return metrics.log_metrics(wrapped)


def _sqs_batch_handler(
    make_processor: Callable[[], BatchProcessor], handle_record: Callable[[SQSRecord, LambdaContext], None]
) -> Handler:
    """Powertools' partial batch response: each record succeeds or fails on its own."""

    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        response = process_partial_response(
            event=event,
            record_handler=lambda record: handle_record(record, context),
            processor=make_processor(),
            context=context,
        )
        return dict(response)

    return _instrumented(handle)


def dispatcher_handler() -> Handler:
    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        report = dispatch_cycle(
            bootstrap.customer_directory(),
            bootstrap.state_store(),
            bootstrap.work_queue(),
            now=dt.datetime.now(dt.UTC),
            cycle_id=context.aws_request_id,
            time_left=lambda: not TimeBudget(context.get_remaining_time_in_millis, DISPATCH_RESERVE_MS).exhausted(),
            reviews=ReviewDispatch(
                bootstrap.state_store(),
                SqsReviewQueue(
                    bootstrap.aws_client("sqs"), ReviewQueueSettings.model_validate(os.environ).reconcile_queue_url
                ),
            ),
        )
        report.backlog = SqsBacklog(bootstrap.aws_client("sqs"), BacklogQueues.model_validate(os.environ)).read()
        record_dispatch(report)
        return report.summary()

    return _instrumented(handle)


def work_handler(stage: Stage) -> Handler:
    """A stage function: one work order per SQS FIFO message (batch size 1)."""

    def handle_order(record: SQSRecord, context: LambdaContext) -> None:
        order = WorkOrder.model_validate_json(record.body)
        if order.stage is not stage:
            raise ValueError(f"work order for stage {order.stage} reached the {stage} function")
        logger.append_keys(customer_id=order.customer_id, stage=stage.value, cycle_id=order.cycle_id)
        started = time.monotonic()
        outcome = bootstrap.stage_runner().run(order, TimeBudget(context.get_remaining_time_in_millis))
        record_run(stage, outcome, (time.monotonic() - started) * 1000)
        if outcome.counts.failed:
            _alert_new_failure_kinds(order.customer_id)

    # A failed run fails the (one-message) batch: the function reports an error and SQS delivers the order again.
    return _sqs_batch_handler(SqsFifoPartialProcessor, handle_order)


def _alert_new_failure_kinds(customer_id: str) -> None:
    """Publish the customer's new kinds of failure. The run itself is done and recorded: an alert that cannot be
    published is logged, never a reason to run the stage again."""
    try:
        topic = SnsAlertTopic(bootstrap.aws_client("sns"), AlertSettings.model_validate(os.environ).alarm_topic_arn)
        for alert in publish_new_failure_kinds(customer_id, bootstrap.state_store(), topic, utc_now()):
            logger.info("new kind of failure published", failure_kind=alert.kind, count=alert.count)
    except Exception as error:
        logger.error(
            "could not publish a new kind of failure",
            error=f"{type(error).__name__}: {error}",
            failure_reason="alert_not_published",
        )


def retry_handler() -> Handler:
    """The retry function: each failed record again; on failure its next delivery is pushed further out.

    Powertools Idempotency, keyed on the business key (customer, kind, record key) only, lets one worker at a time
    run a record (a concurrent delivery fails and comes back later) and answers an SQS duplicate that arrives just
    after a success without calling Sage or AvidXchange. A later retry of the same record runs again: it reads the
    record afresh, and its mapping and lease make a repeat a no-op. A paused customer's records are parked, not
    retried: they go back on the queue when the customer is healthy again.
    """
    config = IdempotencyConfig(
        event_key_jmespath="[customer_id, kind, source_key]",
        expires_after_seconds=RETRY_DUPLICATE_WINDOW_SECONDS,
    )
    store = DynamoDBPersistenceLayer(table_name=bootstrap.settings().idempotency_table)

    def run_retry(*, retry: RecordRetry, receive_count: int, budget: TimeBudget) -> dict[str, str]:
        customer = bootstrap.customer_directory().get(retry.customer_id)
        if not isinstance(customer, Customer):
            raise LookupError(f"customer {retry.customer_id} has no valid customer item")
        state, now = bootstrap.state_store(), utc_now()
        if is_paused(state.get_health(customer.customer_id), now):
            park(state, retry)
        else:
            try:
                with bootstrap.stage_context(customer, budget) as ctx:
                    retry_record(ctx, retry, receive_count=receive_count)
            except CustomerUnavailable as error:
                pause(state, customer.customer_id, error, now)
                park(state, retry)
        return {"customer_id": retry.customer_id, "kind": retry.kind, "source_key": retry.source_key}

    run_retry_once: Callable[..., dict[str, str]] = idempotent_function(
        run_retry, data_keyword_argument="retry", persistence_store=store, config=config
    )

    def handle_retry(record: SQSRecord, context: LambdaContext) -> None:
        retry = RecordRetry.model_validate_json(record.body)
        receive_count = int(record.attributes.approximate_receive_count)
        logger.append_keys(customer_id=retry.customer_id, kind=retry.kind, source_key=retry.source_key)
        config.register_lambda_context(context)
        try:
            run_retry_once(
                retry=retry, receive_count=receive_count, budget=TimeBudget(context.get_remaining_time_in_millis)
            )
        except Exception:
            _delay_next_delivery(record, receive_count)
            raise

    # Failed records are reported back one by one, even when all of them failed: not a function error.
    return _sqs_batch_handler(
        lambda: BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False), handle_retry
    )


def _delay_next_delivery(record: SQSRecord, receive_count: int) -> None:
    delay = min(RETRY_BASE_SECONDS * RETRY_FACTOR ** max(0, receive_count - 1), RETRY_MAX_SECONDS)
    bootstrap.aws_client("sqs").change_message_visibility(
        QueueUrl=bootstrap.settings().retry_queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
    )


def review_handler() -> Handler:
    """The reconcile function: one review order per SQS FIFO message (batch size 1), a scheduled reconciliation or an
    onboarding preview. It reads both systems and writes only its result (the customer's RECONCILE or PREVIEW item).
    A customer that cannot be reached gets a result saying so; the next one is due on the usual schedule."""

    def handle_order(record: SQSRecord, context: LambdaContext) -> None:
        order = ReviewOrder.model_validate_json(record.body)
        logger.append_keys(customer_id=order.customer_id, task=order.task.value, cycle_id=order.cycle_id)
        customer = bootstrap.customer_directory().get(order.customer_id)
        if not isinstance(customer, Customer):
            problem = customer.describe() if customer else f"customer {order.customer_id} has no customer item"
            logger.error("review skipped", problem=problem, failure_reason="invalid_customer")
            return
        state = bootstrap.state_store()
        previous = state.get_review(order.customer_id, order.task)
        try:
            with bootstrap.stage_context(customer, TimeBudget(context.get_remaining_time_in_millis)) as ctx:
                review = run_review(order, ctx, previous, clock=utc_now)
        except CustomerUnavailable as error:
            review = ReviewRecord(
                customer_id=order.customer_id,
                task=order.task,
                queued_at=previous.queued_at if previous else None,
                finished_at=utc_now(),
                ok=False,
                message=f"not run: {error}",
            )
        state.put_review_result(review)
        record_review(review, counts_as_drift=fully_synced(state.list_runs(order.customer_id)))

    return _sqs_batch_handler(SqsFifoPartialProcessor, handle_order)


def ping_handler() -> Handler:
    """Invoked by the operator CLI with ``{"customer_id": ...}``: checks both systems with the real credentials."""

    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        customer_id = str(event.get("customer_id", ""))
        customer = bootstrap.customer_directory().get(customer_id)
        if not isinstance(customer, Customer):
            problem = customer.describe() if customer else f"customer {customer_id!r} has no customer item"
            return {"customer_id": customer_id, "ok": False, "problem": problem}
        return ping_customer(customer, bootstrap.customer_secrets).model_dump(mode="json")

    return _instrumented(handle)
