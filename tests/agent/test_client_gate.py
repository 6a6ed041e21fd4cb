"""The client-address allow-list (403 before the key is read) and slowing repeated failed keys."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from sage_agent.app import AgentSettings, create_app
from sage_agent.auth import AgentKeys, ClientPolicy, hash_agent_key
from sage_agent.client_gate import FailedKeyThrottle, client_allowed
from sage_agent.sage_time import ManualClock
from sage_agent.serving import serve_https_in_thread
from sage_agent.tls import ensure_self_signed_certificate

KEY = "gate-test-agent-key"


@contextmanager
def gated_agent(tmp_path: Path, policy: ClientPolicy) -> Iterator[httpx.Client]:
    certificate, _ = ensure_self_signed_certificate(tmp_path / "agent.crt", tmp_path / "agent.key")
    settings = AgentSettings(
        agent_keys=AgentKeys([hash_agent_key(KEY)]), clock=ManualClock(dt.datetime(2026, 11, 20)), clients=policy
    )
    with (
        serve_https_in_thread(create_app({}, settings), certificate) as server,
        httpx.Client(
            base_url=server.url, verify=ssl.create_default_context(cafile=str(certificate.cert_path))
        ) as client,
    ):
        yield client


def networks(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


@pytest.mark.parametrize(
    ("address", "cidrs", "allowed"),
    [
        ("203.0.113.7", (), True),
        ("203.0.113.7", ("203.0.113.7/32",), True),
        ("203.0.113.8", ("203.0.113.7/32", "10.0.0.0/8"), False),
        ("::ffff:10.1.2.3", ("10.0.0.0/8",), True),
        ("2001:db8::1", ("2001:db8::/32",), True),
        ("not-an-address", ("0.0.0.0/0",), False),
    ],
)
def test_client_allowed(address: str, cidrs: tuple[str, ...], allowed: bool) -> None:
    assert client_allowed(address, networks(*cidrs)) is allowed


def test_an_address_outside_the_allow_list_is_403_before_its_key_is_read(tmp_path: Path) -> None:
    with gated_agent(tmp_path, ClientPolicy(allowed=networks("10.0.0.0/8"))) as client:
        for path, headers in (("/v1/health", {"X-Agent-Key": KEY}), ("/v1/health", {}), ("/openapi.json", {})):
            response = client.get(path, headers=headers)
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "forbidden"
    with gated_agent(tmp_path, ClientPolicy(allowed=networks("127.0.0.0/8"))) as client:
        assert client.get("/v1/health", headers={"X-Agent-Key": KEY}).status_code == 200


def test_repeated_failed_keys_from_one_address_are_slowed(tmp_path: Path) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    policy = ClientPolicy(throttle=FailedKeyThrottle(threshold=2, base_delay=1.0, max_delay=3.0), sleep=record)
    with gated_agent(tmp_path, policy) as client:
        statuses = [client.get("/v1/health", headers={"X-Agent-Key": "wrong"}).status_code for _ in range(5)]
        assert statuses == [401] * 5
        assert waits == [1.0, 2.0, 3.0], "from the third attempt on, doubling up to the maximum"
        assert client.get("/v1/health", headers={"X-Agent-Key": KEY}).status_code == 200
        client.get("/v1/health", headers={"X-Agent-Key": "wrong"})
        assert waits == [1.0, 2.0, 3.0, 3.0], "the right key still waited, and then cleared the record"


def test_failures_are_per_address_and_forgotten() -> None:
    now = [0.0]
    throttle = FailedKeyThrottle(threshold=1, base_delay=1.0, forget_after=60.0, monotonic=lambda: now[0])
    throttle.failed("198.51.100.1")
    assert throttle.delay("198.51.100.1") == 1.0
    assert throttle.delay("198.51.100.2") == 0.0
    now[0] = 61.0
    assert throttle.delay("198.51.100.1") == 0.0
