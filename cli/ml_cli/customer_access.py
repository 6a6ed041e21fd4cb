"""Reaching a customer's two systems from the operator's machine, with its real credentials from Secrets Manager."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from aws_lambda_powertools.utilities import parameters

from ml_cli.commands.customer import secret_exists
from ml_cli.deployment import Deployment
from ml_cli.errors import OperationFailed
from ml_connector.adapters.agent_client import AgentClient
from ml_connector.adapters.avid_client import AvidClient
from ml_connector.adapters.customer_systems import open_customer_systems
from ml_connector.adapters.secrets import CustomerSecrets, CustomerSecretsUnavailable, load_customer_secrets
from ml_connector.customers import Customer
from ml_connector.errors import ConnectorError
from ml_connector.observability import logger
from ml_connector.ports import AvidConnect, OpenSystems, SageAgent


def secrets_loader(deployment: Deployment) -> Callable[[Customer], CustomerSecrets]:
    """Reads the secret as the functions do (same prefix rule, same model), through the deployment's session."""
    provider = parameters.SecretsProvider(boto3_client=deployment.client("secretsmanager"))

    def load(customer: Customer) -> CustomerSecrets:
        if not secret_exists(deployment, customer.secret_arn):
            raise CustomerSecretsUnavailable(
                f"secret {customer.secret_arn} does not exist; create it with `mlc secrets put {customer.customer_id}`"
            )
        return load_customer_secrets(customer, secret_prefix=deployment.secret_prefix, provider=provider)

    return load


@contextmanager
def connector_logs_quiet() -> Iterator[None]:
    """The clients log each retry as JSON for CloudWatch; on a terminal the report says what matters."""
    previous = logger.log_level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def systems_opener(deployment: Deployment) -> OpenSystems:
    """Opens a customer's two clients with its secret, read when the block starts."""
    load = secrets_loader(deployment)

    def open_systems(customer: Customer) -> AbstractContextManager[tuple[SageAgent, AvidConnect]]:
        return open_customer_systems(customer, load(customer), deployment.call_schedule())

    return open_systems


@contextmanager
def customer_systems(
    deployment: Deployment, customer: Customer, *, shared_pace: bool = True
) -> Iterator[tuple[AgentClient, AvidClient]]:
    """The customer's agent and AvidConnect clients; a connector error inside the block fails the command (exit 1).
    With ``shared_pace`` the AvidConnect calls take turns with the customer's functions (without: paced alone)."""
    with connector_logs_quiet():
        try:
            secrets = secrets_loader(deployment)(customer)
            schedule = deployment.call_schedule() if shared_pace else None
            with open_customer_systems(customer, secrets, schedule) as systems:
                yield systems
        except ConnectorError as error:
            raise OperationFailed(f"customer {customer.customer_id}: {error}") from None
