"""Opens the two clients (agent and AvidConnect) for one customer with its secrets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ml_connector.adapters.agent_client import AgentClient
from ml_connector.adapters.avid_client import AvidClient
from ml_connector.adapters.secrets import CustomerSecrets
from ml_connector.adapters.shared_turns import SharedTurns
from ml_connector.customers import Customer
from ml_connector.observability import logger
from ml_connector.ports import CallSchedule


@contextmanager
def open_customer_systems(
    customer: Customer, secrets: CustomerSecrets, schedule: CallSchedule | None = None
) -> Iterator[tuple[AgentClient, AvidClient]]:
    """Both clients; the AvidConnect client's calls take turns on ``schedule`` with every other invocation for the
    customer (without one, this process paces only its own)."""
    shared_turns = (
        SharedTurns(schedule, customer.customer_id, customer.avid.requests_per_second) if schedule is not None else None
    )
    with (
        AgentClient(customer.agent, secrets.agent_key.get_secret_value(), logger=logger) as agent,
        AvidClient(
            customer.avid,
            secrets.avid_company_token.get_secret_value(),
            secrets.avid_user_token.get_secret_value(),
            logger=logger,
            shared_turns=shared_turns,
            max_spooled_image_bytes=customer.max_image_bytes,
        ) as avid,
    ):
        yield agent, avid
