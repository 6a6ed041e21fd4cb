"""The reconcile function's handler: one review order per SQS FIFO message (batch size 1), a scheduled
reconciliation or an onboarding preview. It reads both systems and writes only its result (the customer's RECONCILE
or PREVIEW item). A customer that cannot be reached gets a result saying so; the next one is due on the usual
schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.typing import LambdaContext

from ml_connector import bootstrap
from ml_connector.customers import Customer
from ml_connector.errors import CustomerUnavailable
from ml_connector.handlers.shape import Handler, sqs_batch_handler
from ml_connector.messages import ReviewOrder
from ml_connector.observability import logger, record_review
from ml_connector.reviews import fully_synced, run_review
from ml_connector.stages.context import TimeBudget, utc_now
from ml_connector.state.history import ReviewRecord

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def handle_review(record: SQSRecord, context: LambdaContext) -> None:
    order = ReviewOrder.model_validate_json(record.body)
    logger.append_keys(customer_id=order.customer_id, task=order.task.value, cycle_id=order.cycle_id)
    wiring = bootstrap.adapters()
    customer = wiring.customers.get(order.customer_id)
    if not isinstance(customer, Customer):
        problem = customer.describe() if customer else f"customer {order.customer_id} has no customer item"
        logger.error("review skipped", problem=problem, failure_reason="invalid_customer")
        return
    state = wiring.state
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


def review_handler() -> Handler:
    return sqs_batch_handler(handle_review, fifo=True)
