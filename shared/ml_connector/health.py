"""Pausing a customer whose systems cannot be reached, with growing back-off, so it is not hammered."""

from __future__ import annotations

import datetime as dt

from ml_connector.errors import (
    AgentAuthFailed,
    AgentOffline,
    AgentTlsFailed,
    AvidAuthFailed,
    AvidContractViolation,
    CustomerUnavailable,
)
from ml_connector.ports import StateStore
from ml_connector.state.models import CustomerHealth, HealthStatus

FIRST_PAUSE = dt.timedelta(minutes=5)
LONGEST_PAUSE = dt.timedelta(hours=6)


def status_for(error: CustomerUnavailable) -> HealthStatus:
    if isinstance(error, AgentAuthFailed):
        return HealthStatus.AGENT_CREDENTIALS_REJECTED
    if isinstance(error, AgentOffline | AgentTlsFailed):
        return HealthStatus.AGENT_OFFLINE
    if isinstance(error, AvidAuthFailed):
        return HealthStatus.AVID_CREDENTIALS_REJECTED
    if isinstance(error, AvidContractViolation):
        return HealthStatus.AVID_UNAVAILABLE
    return HealthStatus.MISCONFIGURED  # unknown company, contract mismatch, a bad customer item


def paused(
    previous: CustomerHealth | None, customer_id: str, error: CustomerUnavailable, now: dt.datetime
) -> CustomerHealth:
    failures = (previous.consecutive_failures if previous and previous.status is not HealthStatus.OK else 0) + 1
    pause = min(FIRST_PAUSE * 2 ** (failures - 1), LONGEST_PAUSE)
    status = status_for(error)
    since = previous.since if previous and previous.status is status else now
    return CustomerHealth(
        customer_id=customer_id,
        status=status,
        reason=str(error),
        since=since,
        retry_at=now + pause,
        consecutive_failures=failures,
    )


def healthy(customer_id: str, now: dt.datetime) -> CustomerHealth:
    return CustomerHealth(customer_id=customer_id, status=HealthStatus.OK, since=now)


def is_paused(health: CustomerHealth | None, now: dt.datetime) -> bool:
    """Whether the customer is in a pause the dispatcher honours (its systems were unreachable)."""
    return (
        health is not None
        and health.status is not HealthStatus.OK
        and health.retry_at is not None
        and health.retry_at > now
    )


def pause(state: StateStore, customer_id: str, error: CustomerUnavailable, now: dt.datetime) -> None:
    """Pause the customer (or lengthen its pause): the dispatcher leaves it alone until its back-off ends."""
    state.put_health(paused(state.get_health(customer_id), customer_id, error, now))
