"""The shape every handler shares: Powertools' logger, tracer and metrics around it, and SQS partial batch responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ml_connector.observability import logger, metrics, traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def instrumented(function: Handler) -> Handler:
    wrapped: Handler = logger.inject_lambda_context(log_event=False)(function)
    wrapped = traced(wrapped)
    return metrics.log_metrics(wrapped)


def sqs_batch_handler(handle_record: Callable[[SQSRecord, LambdaContext], None], *, fifo: bool) -> Handler:
    """Powertools' partial batch response: each record succeeds or fails on its own. On a FIFO queue (``fifo``) the
    first failure fails the rest of the batch too, to keep the group's order; on a standard queue failed records are
    reported one by one, even when all of them failed (not a function error)."""

    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Imported on the first batch, not at cold start (Powertools' batch module loads asyncio).
        from aws_lambda_powertools.utilities.batch import (  # noqa: PLC0415
            BatchProcessor,
            EventType,
            SqsFifoPartialProcessor,
            process_partial_response,
        )

        processor = (
            SqsFifoPartialProcessor()
            if fifo
            else BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        )
        response = process_partial_response(
            event=event,
            record_handler=lambda record: handle_record(record, context),
            processor=processor,
            context=context,
        )
        return dict(response)

    return instrumented(handle)
