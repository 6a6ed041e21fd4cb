"""The retry function's handler: each failed record again; on failure its next delivery is pushed further out.

Powertools Idempotency, keyed on the business key (customer, kind, record key) only, lets one worker at a time run a
record (a concurrent delivery fails and comes back later) and answers an SQS duplicate that arrives just after a
success without calling Sage or AvidXchange. A later retry of the same record runs again: it reads the record afresh,
and its mapping and lease make a repeat a no-op. A paused customer's records are parked, not retried: they go back
on the queue when the customer is healthy again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.typing import LambdaContext

from ml_connector import bootstrap
from ml_connector.customers import Customer
from ml_connector.errors import CustomerUnavailable
from ml_connector.handlers.shape import Handler, sqs_batch_handler
from ml_connector.health import is_paused, pause
from ml_connector.messages import RecordRetry
from ml_connector.observability import logger
from ml_connector.stages.context import TimeBudget, utc_now
from ml_connector.stages.parking import park
from ml_connector.stages.retry import next_delivery_delay, retry_record

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

# How long a succeeded retry answers a duplicate delivery of the same record without running it again.
DUPLICATE_WINDOW_SECONDS = 5 * 60


@cache
def _idempotency() -> IdempotencyConfig:
    # Imported on the first record, not at cold start: Powertools' idempotency package loads boto3.
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig  # noqa: PLC0415

    return IdempotencyConfig(
        event_key_jmespath="[customer_id, kind, source_key]", expires_after_seconds=DUPLICATE_WINDOW_SECONDS
    )


def run_retry(*, retry: RecordRetry, receive_count: int, budget: TimeBudget) -> dict[str, str]:
    wiring = bootstrap.adapters()
    customer = wiring.customers.get(retry.customer_id)
    if not isinstance(customer, Customer):
        raise LookupError(f"customer {retry.customer_id} has no valid customer item")
    now = utc_now()
    if is_paused(wiring.state.get_health(customer.customer_id), now):
        park(wiring.state, retry)
    else:
        try:
            with bootstrap.stage_context(customer, budget) as ctx:
                retry_record(ctx, retry, receive_count=receive_count)
        except CustomerUnavailable as error:
            pause(wiring.state, customer.customer_id, error, now)
            park(wiring.state, retry)
    return {"customer_id": retry.customer_id, "kind": retry.kind, "source_key": retry.source_key}


@cache
def _run_retry_once() -> Callable[..., dict[str, str]]:
    """``run_retry`` behind Powertools Idempotency, its persistence layer built on the first record."""
    from aws_lambda_powertools.utilities.idempotency import idempotent_function  # noqa: PLC0415

    once: Callable[..., dict[str, str]] = idempotent_function(
        run_retry,
        data_keyword_argument="retry",
        persistence_store=bootstrap.adapters().idempotency,
        config=_idempotency(),
    )
    return once


def handle_retry(record: SQSRecord, context: LambdaContext) -> None:
    retry = RecordRetry.model_validate_json(record.body)
    receive_count = int(record.attributes.approximate_receive_count)
    logger.append_keys(customer_id=retry.customer_id, kind=retry.kind, source_key=retry.source_key)
    _idempotency().register_lambda_context(context)
    try:
        _run_retry_once()(
            retry=retry, receive_count=receive_count, budget=TimeBudget(context.get_remaining_time_in_millis)
        )
    except Exception:
        bootstrap.adapters().retry_delay.delay(record.receipt_handle, next_delivery_delay(receive_count))
        raise


def retry_handler() -> Handler:
    return sqs_batch_handler(handle_retry, fifo=False)
