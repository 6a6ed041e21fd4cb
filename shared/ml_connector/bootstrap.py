"""The composition root: the adapters a handler works with, the real ones built on first use (Lambda keeps them
warm), or fakes installed by a test with ``use``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Protocol

from ml_connector.customers import Customer
from ml_connector.ports import (
    AlertTopic,
    AvidConnect,
    BacklogGauge,
    CallSchedule,
    CustomerDirectory,
    RetryDelay,
    RetryQueue,
    ReviewQueue,
    SageAgent,
    Sealer,
    StateStore,
    WorkQueue,
)
from ml_connector.stages.context import StageContext, TimeBudget

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from ml_connector.settings import FunctionSettings


class Adapters(Protocol):
    """Everything the handlers reach outside the process."""

    @property
    def customers(self) -> CustomerDirectory: ...
    @property
    def state(self) -> StateStore: ...
    @property
    def work(self) -> WorkQueue: ...
    @property
    def retries(self) -> RetryQueue: ...
    @property
    def retry_delay(self) -> RetryDelay: ...
    @property
    def reviews(self) -> ReviewQueue: ...
    @property
    def backlog(self) -> BacklogGauge: ...
    @property
    def alerts(self) -> AlertTopic: ...
    @property
    def sealer(self) -> Sealer: ...
    @property
    def idempotency(self) -> BasePersistenceLayer: ...

    def open_systems(
        self, customer: Customer, *, shared_pace: bool = True
    ) -> AbstractContextManager[tuple[SageAgent, AvidConnect]]:
        """The customer's agent and AvidConnect clients, closed when the block ends. With ``shared_pace`` the
        AvidConnect calls take turns with the customer's other invocations (without: a call or two, paced alone)."""
        ...


@cache
def aws_client(service: str) -> Any:
    import boto3

    return boto3.client(service)


class AwsAdapters:
    """The real adapters, each built the first time a handler uses it: a function imports and builds only what it
    needs, for a short cold start."""

    @cached_property
    def settings(self) -> FunctionSettings:
        from ml_connector.settings import function_settings

        return function_settings()

    @cached_property
    def _dynamodb(self) -> Any:
        import boto3

        return boto3.resource("dynamodb")

    @cached_property
    def customers(self) -> CustomerDirectory:
        from ml_connector.adapters.customer_table import DynamoCustomerDirectory

        return DynamoCustomerDirectory(self.settings.customers_table, dynamodb=self._dynamodb)

    @cached_property
    def state(self) -> StateStore:
        from ml_connector.state.dynamodb import DynamoStateStore

        return DynamoStateStore(
            self.settings.state_table,
            audit_retention=dt.timedelta(days=self.settings.audit_retention_days),
            dynamodb=self._dynamodb,
        )

    @cached_property
    def call_schedule(self) -> CallSchedule:
        from ml_connector.state.call_schedule import DynamoCallSchedule

        return DynamoCallSchedule(self.settings.state_table, dynamodb=self._dynamodb)

    @cached_property
    def work(self) -> WorkQueue:
        from ml_connector.adapters.work_queue import SqsWorkQueue

        return SqsWorkQueue(aws_client("sqs"), self.settings.work_queue_url)

    @cached_property
    def retries(self) -> RetryQueue:
        from ml_connector.adapters.retry_queue import SqsRetryQueue

        return SqsRetryQueue(aws_client("sqs"), self.settings.retry_queue_url)

    @cached_property
    def retry_delay(self) -> RetryDelay:
        from ml_connector.adapters.retry_queue import SqsRetryDelay

        return SqsRetryDelay(aws_client("sqs"), self.settings.retry_queue_url)

    @cached_property
    def reviews(self) -> ReviewQueue:
        import os

        from ml_connector.adapters.review_queue import ReviewQueueSettings, SqsReviewQueue

        return SqsReviewQueue(aws_client("sqs"), ReviewQueueSettings.model_validate(os.environ).reconcile_queue_url)

    @cached_property
    def backlog(self) -> BacklogGauge:
        import os

        from ml_connector.adapters.queue_backlog import BacklogQueues, SqsBacklog

        return SqsBacklog(aws_client("sqs"), BacklogQueues.model_validate(os.environ))

    @cached_property
    def alerts(self) -> AlertTopic:
        import os

        from ml_connector.adapters.alert_topic import AlertSettings, SnsAlertTopic

        return SnsAlertTopic(aws_client("sns"), AlertSettings.model_validate(os.environ).alarm_topic_arn)

    @cached_property
    def sealer(self) -> Sealer:
        from ml_connector.adapters.envelope import EnvelopeSealer

        return EnvelopeSealer(aws_client("kms"), self.settings.connector_key_arn)

    @cached_property
    def idempotency(self) -> BasePersistenceLayer:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(table_name=self.settings.idempotency_table)

    @contextmanager
    def open_systems(self, customer: Customer, *, shared_pace: bool = True) -> Iterator[tuple[SageAgent, AvidConnect]]:
        """The customer's secret is read once the customer is admitted in this deployment; credentials either system
        refuses drop the cached secrets (an operator may have put new ones)."""
        from ml_connector.adapters.customer_systems import open_customer_systems
        from ml_connector.adapters.secrets import forget_cached_secrets, load_customer_secrets
        from ml_connector.admission import admit_customer
        from ml_connector.errors import AgentAuthFailed, AvidAuthFailed

        admit_customer(customer, environment=self.settings.environment_name)
        secrets = load_customer_secrets(customer, secret_prefix=self.settings.secret_prefix)
        try:
            schedule = self.call_schedule if shared_pace else None
            with open_customer_systems(customer, secrets, schedule) as systems:
                yield systems
        except (AgentAuthFailed, AvidAuthFailed):
            forget_cached_secrets()
            raise


class _Installed:
    adapters: Adapters | None = None


@cache
def _aws_adapters() -> AwsAdapters:
    return AwsAdapters()


def adapters() -> Adapters:
    return _Installed.adapters if _Installed.adapters is not None else _aws_adapters()


def use(replacement: Adapters | None) -> None:
    """Run the handlers on ``replacement`` (tests: in-memory fakes); None goes back to the real adapters."""
    _Installed.adapters = replacement


@contextmanager
def stage_context(customer: Customer, budget: TimeBudget) -> Iterator[StageContext]:
    """One customer's run: both systems open for its length, state, the retry queue and the time budget."""
    wiring = adapters()
    with wiring.open_systems(customer) as (agent, avid):
        yield StageContext(
            customer=customer,
            agent=agent,
            avid=avid,
            state=wiring.state,
            retries=wiring.retries,
            sealer=wiring.sealer,
            budget=budget,
        )
