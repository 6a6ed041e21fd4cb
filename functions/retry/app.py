"""The retry function: failed records from the retry queue, with growing delays; SQS dead-letters what keeps failing."""

from ml_connector.handlers.retry import retry_handler

handler = retry_handler()
