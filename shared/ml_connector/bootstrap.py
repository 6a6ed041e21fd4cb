"""Builds the real adapters from the function's settings. Clients are cached: Lambda keeps them warm."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from typing import Any

import boto3

from ml_connector.adapters.customer_systems import open_customer_systems
from ml_connector.adapters.customer_table import DynamoCustomerDirectory
from ml_connector.adapters.envelope import EnvelopeSealer
from ml_connector.adapters.retry_queue import SqsRetryQueue
from ml_connector.adapters.secrets import CustomerSecrets, forget_cached_secrets, load_customer_secrets
from ml_connector.adapters.work_queue import SqsWorkQueue
from ml_connector.admission import admit_customer
from ml_connector.customers import Customer
from ml_connector.errors import AgentAuthFailed, AvidAuthFailed
from ml_connector.settings import FunctionSettings, function_settings
from ml_connector.stages.context import StageContext, TimeBudget, utc_now
from ml_connector.stages.runner import StageRunner
from ml_connector.state.dynamodb import DynamoStateStore


@cache
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


@lru_cache(maxsize=1)
def retry_queue() -> SqsRetryQueue:
    return SqsRetryQueue(aws_client("sqs"), settings().retry_queue_url)


@lru_cache(maxsize=1)
def sealer() -> EnvelopeSealer:
    return EnvelopeSealer(aws_client("kms"), settings().connector_key_arn)


def customer_secrets(customer: Customer) -> CustomerSecrets:
    """The customer's own secret, once the customer is admitted in this deployment (run before every call)."""
    admit_customer(customer, environment=settings().environment_name)
    return load_customer_secrets(customer, secret_prefix=settings().secret_prefix)


@contextmanager
def stage_context(customer: Customer, budget: TimeBudget) -> Iterator[StageContext]:
    """The real systems for one customer's run; the clients are closed when the run ends."""
    try:
        with open_customer_systems(customer, customer_secrets(customer)) as (agent, avid):
            yield StageContext(
                customer=customer,
                agent=agent,
                avid=avid,
                state=state_store(),
                retries=retry_queue(),
                sealer=sealer(),
                budget=budget,
            )
    except (AgentAuthFailed, AvidAuthFailed):
        forget_cached_secrets()
        raise


def stage_runner() -> StageRunner:
    return StageRunner(
        customers=customer_directory(),
        state=state_store(),
        work=work_queue(),
        retries=retry_queue(),
        open_context=stage_context,
        clock=utc_now,
    )
