"""Builds the real adapters from the function's settings. Clients are cached: Lambda keeps them warm."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import boto3

from ml_connector.adapters.customer_table import DynamoCustomerDirectory
from ml_connector.adapters.work_queue import SqsWorkQueue
from ml_connector.settings import FunctionSettings, function_settings
from ml_connector.state.dynamodb import DynamoStateStore


@lru_cache(maxsize=None)
def aws_client(service: str) -> Any:
    return boto3.client(service)


@lru_cache(maxsize=1)
def dynamodb_resource() -> Any:
    return boto3.resource("dynamodb")


def settings() -> FunctionSettings:
    return function_settings()


@lru_cache(maxsize=1)
def state_store() -> DynamoStateStore:
    config = settings()
    return DynamoStateStore(
        config.state_table,
        audit_retention=dt.timedelta(days=config.audit_retention_days),
        dynamodb=dynamodb_resource(),
    )


@lru_cache(maxsize=1)
def customer_directory() -> DynamoCustomerDirectory:
    return DynamoCustomerDirectory(settings().customers_table, dynamodb=dynamodb_resource())


@lru_cache(maxsize=1)
def work_queue() -> SqsWorkQueue:
    return SqsWorkQueue(aws_client("sqs"), settings().work_queue_url)
