"""A stage function's handler: one work order per SQS FIFO message (batch size 1), run by the stage it names."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.typing import LambdaContext

from ml_connector import bootstrap
from ml_connector.handlers.shape import Handler, sqs_batch_handler
from ml_connector.kinds import Stage
from ml_connector.messages import WorkOrder
from ml_connector.observability import logger, record_run
from ml_connector.stages.context import TimeBudget, utc_now
from ml_connector.stages.runner import StageFunction, StageRunner

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def work_handler(stage: Stage, sync: StageFunction) -> Handler:
    """``sync`` runs one customer's ``stage`` (e.g. ``sync_vendors``); the runner records it and queues what is next."""

    def handle_order(record: SQSRecord, context: LambdaContext) -> None:
        order = WorkOrder.model_validate_json(record.body)
        if order.stage is not stage:
            raise ValueError(f"work order for stage {order.stage} reached the {stage} function")
        logger.append_keys(customer_id=order.customer_id, stage=stage.value, cycle_id=order.cycle_id)
        started = time.monotonic()
        wiring = bootstrap.adapters()
        runner = StageRunner(
            customers=wiring.customers,
            state=wiring.state,
            work=wiring.work,
            retries=wiring.retries,
            open_context=bootstrap.stage_context,
            clock=utc_now,
        )
        outcome = runner.run(order, sync, TimeBudget(context.get_remaining_time_in_millis))
        record_run(stage, outcome, (time.monotonic() - started) * 1000)
        if outcome.counts.failed:
            _alert_new_failure_kinds(order.customer_id)

    # A failed run fails the (one-message) batch: the function reports an error and SQS delivers the order again.
    return sqs_batch_handler(handle_order, fifo=True)


def _alert_new_failure_kinds(customer_id: str) -> None:
    """Publish the customer's new kinds of failure. The run itself is done and recorded: an alert that cannot be
    published is logged, never a reason to run the stage again."""
    from ml_connector.alerts import publish_new_failure_kinds  # noqa: PLC0415 - only a run with failures needs it

    wiring = bootstrap.adapters()
    try:
        for alert in publish_new_failure_kinds(customer_id, wiring.state, wiring.alerts, utc_now()):
            logger.info("new kind of failure published", failure_kind=alert.kind, count=alert.count)
    except Exception as error:
        logger.error(
            "could not publish a new kind of failure",
            error=f"{type(error).__name__}: {error}",
            failure_reason="alert_not_published",
        )
