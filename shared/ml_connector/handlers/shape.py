"""The shape every handler shares: Powertools' logger, tracer and metrics around it, and SQS partial batch responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ml_connector.observability import logger, metrics, traced

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def instrumented(function: Handler) -> Handler:
    wrapped: Handler = logger.inject_lambda_context(log_event=False)(function)
    wrapped = traced(wrapped)
    return metrics.log_metrics(wrapped)


def sqs_batch_handler(
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

    return instrumented(handle)
