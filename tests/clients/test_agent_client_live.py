"""The agent client against the real agent (simulated Sage 100) over HTTPS: every endpoint, error and retry."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from ml_connector.adapters.agent_client import AgentClient
from ml_connector.adapters.backoff import BackoffPolicy
from ml_connector.connections import AgentConnection, AgentTls, Timeouts, TlsMode
from ml_connector.domain.sage import ManualCheck, ManualCheckLine, OpenInvoice, PaymentMethod
from ml_connector.errors import (
    AgentAuthFailed,
    AgentOffline,
    AgentTlsFailed,
    CompanyNotServed,
    CustomerUnavailable,
    PaymentAlreadyExists,
    RecordRejected,
    RetryLater,
    SageRequestRejected,
    SageValidationFailed,
)
from sage_agent.serving import free_port
from sage_agent.testing import RunningAgent, running_agent

from .conftest import FakeTime

AGENT_KEY = "agent-key-7c41d9e2"
CHECK_NUMBERS = (f"T{n:09d}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAgent]:
    with running_agent(tmp_path_factory.mktemp("agent"), agent_key=AGENT_KEY) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults(agent: RunningAgent) -> Iterator[None]:
    agent.faults.reset()
    yield
    agent.faults.reset()


def pinned(agent: RunningAgent) -> AgentTls:
    return AgentTls(mode=TlsMode.PINNED, fingerprint_sha256=agent.certificate.fingerprint_sha256)


@pytest.fixture
def make_client(agent: RunningAgent, policy_for: Callable[..., BackoffPolicy]) -> Iterator[Callable[..., AgentClient]]:
    clients: list[AgentClient] = []

    def build(*, key: str = AGENT_KEY, policy: BackoffPolicy | None = None, **overrides: object) -> AgentClient:
        settings: dict[str, object] = {
            "base_url": agent.url,
            "company": agent.company,
            "tls": pinned(agent),
            **overrides,
        }
        client = AgentClient(
            AgentConnection.model_validate(settings),
            key,
            retry_policy=policy or policy_for(),
            logger=logging.getLogger("test.agent"),
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., AgentClient]) -> AgentClient:
    return make_client()


def open_invoices(client: AgentClient, count: int) -> list[OpenInvoice]:
    """``count`` open invoices with a positive balance, none used by an earlier test."""
    found: list[OpenInvoice] = []
    cursor = None
    while len(found) < count:
        page = client.open_invoices_page(updated_since=None, cursor=cursor, limit=100)
        found += [i for i in page.items if i.balance > 0 and i.key not in _used]
        assert page.next_cursor, "the demo company ran out of open invoices"
        cursor = page.next_cursor
    chosen = found[:count]
    _used.update(i.key for i in chosen)
    return chosen


_used: set[str] = set()


def check_for(invoice: OpenInvoice, agent: RunningAgent, amount: Decimal | None = None) -> ManualCheck:
    return ManualCheck(
        bank_code="A",
        check_no=next(CHECK_NUMBERS),
        check_date=agent.clock.now().date(),
        ap_division_no=invoice.ap_division_no,
        vendor_no=invoice.vendor_no,
        payment_method=PaymentMethod.CHECK,
        comment="AvidPay test",
        lines=[
            ManualCheckLine(
                invoice_no=invoice.invoice_no,
                header_seq_no=invoice.header_seq_no,
                amount_paid=amount if amount is not None else invoice.balance,
            )
        ],
    )


def test_health_and_ping(client: AgentClient, agent: RunningAgent) -> None:
    health = client.health()
    assert health.companies == ["RCC"]
    assert abs(health.server_time - agent.clock.now()) < dt.timedelta(seconds=2)
    info = client.ping()
    assert info.company_code == "RCC"
    assert info.bank_codes == ["A", "B"]


def test_vendor_pages_cover_every_vendor_once(client: AgentClient) -> None:
    keys: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = client.vendors_page(updated_since=None, cursor=cursor, limit=25)
        assert page.invalid == []
        keys += [v.key for v in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages > 3
    assert len(keys) == len(set(keys)) > 100


def test_updated_since_returns_only_later_changes(client: AgentClient, agent: RunningAgent) -> None:
    vendor = client.vendors_page(updated_since=None, limit=1).items[0]
    agent.clock.advance(dt.timedelta(days=400))
    since = agent.clock.now()
    agent.backend.update_vendor(vendor.ap_division_no, vendor.vendor_no, HoldPayment="Y")
    page = client.vendors_page(updated_since=since)
    assert [v.key for v in page.items] == [vendor.key]
    assert page.items[0].hold_payment is True
    # Five decimals of an hour resolve 0.036 s, so the stamp reads up to that much before the write.
    assert since - dt.timedelta(seconds=0.036) <= page.items[0].updated_at
    assert page.next_cursor is None


def test_gl_accounts_segments_and_segment_values(client: AgentClient) -> None:
    accounts = client.gl_accounts_page(updated_since=None, limit=1000)
    assert accounts.items
    assert all(len(a.segments) == 3 for a in accounts.items)
    segments = client.gl_segments()
    assert [s.segment_name for s in segments] == ["Account", "Division", "Cost Center"]
    values = client.segment_values_page(segment_no=3, updated_since=None)
    assert values.items
    assert {v.segment_no for v in values.items} == {3}


def test_open_invoices_filters(client: AgentClient) -> None:
    division_two = client.open_invoices_page(updated_since=None, division="02", limit=50).items
    assert division_two
    assert {i.ap_division_no for i in division_two} == {"02"}
    cutoff = division_two[0].invoice_date
    recent = client.open_invoices_page(updated_since=None, invoice_date_from=cutoff, limit=1000).items
    assert recent
    assert all(i.invoice_date >= cutoff for i in recent)


def test_open_invoice_by_key_and_missing_one(client: AgentClient) -> None:
    listed = client.open_invoices_page(updated_since=None, limit=1).items[0]
    assert client.open_invoice(listed.ap_division_no, listed.vendor_no, listed.invoice_no) == listed
    assert client.open_invoice("01", "NOSUCH", "1") is None


def test_invoice_image_streams_and_matches_its_etag(client: AgentClient) -> None:
    with_image = next(i for i in client.open_invoices_page(updated_since=None, limit=100).items if i.has_image)
    with client.invoice_image(with_image.ap_division_no, with_image.vendor_no, with_image.invoice_no) as image:
        assert image is not None
        assert image.content_type in ("application/pdf", "image/tiff", "image/png", "image/jpeg")
        data = b"".join(image.iter_bytes())
    assert len(data) == image.size
    assert hashlib.sha256(data).hexdigest() == image.sha256


def test_invoice_without_image_gives_none(client: AgentClient, agent: RunningAgent) -> None:
    invoice = client.open_invoices_page(updated_since=None, limit=1).items[0]
    agent.backend.remove_image(invoice.ap_division_no, invoice.vendor_no, invoice.invoice_no)
    with client.invoice_image(invoice.ap_division_no, invoice.vendor_no, invoice.invoice_no) as image:
        assert image is None


def test_manual_check_posts_once_and_a_repeat_meets_the_existing_one(client: AgentClient, agent: RunningAgent) -> None:
    invoice = open_invoices(client, 1)[0]
    check = check_for(invoice, agent)
    result = client.post_manual_check(check)
    assert (result.check_no, result.check_amt, result.posted) == (check.check_no, invoice.balance, True)
    with pytest.raises(PaymentAlreadyExists) as caught:
        client.post_manual_check(check)
    existing = caught.value.existing
    assert existing.lines == check.lines
    assert existing.posted is True
    assert client.manual_check("A", check.check_no) == existing
    assert client.manual_check("A", "NEVER") is None
    assert client.open_invoice(invoice.ap_division_no, invoice.vendor_no, invoice.invoice_no) is None


def test_overpayment_is_refused_with_field_messages(client: AgentClient, agent: RunningAgent) -> None:
    invoice = open_invoices(client, 1)[0]
    with pytest.raises(SageValidationFailed) as caught:
        client.post_manual_check(check_for(invoice, agent, invoice.balance + Decimal("1.00")))
    assert isinstance(caught.value, RecordRejected)
    assert caught.value.fields
    assert invoice.invoice_no in str(caught.value) or "AmountPaid" in str(caught.value)


def test_locked_record_is_retried_honouring_retry_after(
    client: AgentClient, agent: RunningAgent, fake_time: FakeTime
) -> None:
    invoice = open_invoices(client, 1)[0]
    agent.faults.set_failure_shares(retry_after=5)
    agent.faults.fail_next("post_payment", 2, status=423)
    result = client.post_manual_check(check_for(invoice, agent))
    assert result.posted
    assert fake_time.sleeps == [5.0, 5.0]


def test_busy_agent_gives_up_with_retry_later(
    make_client: Callable[..., AgentClient], agent: RunningAgent, policy_for: Callable[..., BackoffPolicy]
) -> None:
    client = make_client(policy=policy_for(max_attempts=3))
    agent.faults.set_failure_shares(retry_after=2)
    agent.faults.fail_next("vendors", 3, status=503)
    with pytest.raises(RetryLater, match="busy") as caught:
        client.vendors_page(updated_since=None)
    assert caught.value.retry_after == 2.0
    assert client.vendors_page(updated_since=None, limit=1).items


def test_boi_error_is_retried_a_few_times_then_retry_later(
    make_client: Callable[..., AgentClient],
    agent: RunningAgent,
    policy_for: Callable[..., BackoffPolicy],
    fake_time: FakeTime,
) -> None:
    client = make_client(policy=policy_for(max_attempts=6, server_error_attempts=3))
    agent.faults.fail_next("ping", 5, status=500)
    with pytest.raises(RetryLater, match="Sage 100 failed"):
        client.ping()
    assert len(fake_time.sleeps) == 2
    agent.faults.reset()
    agent.faults.fail_next("ping", 1, status=500)
    assert client.ping().company_code == "RCC"


def test_wrong_key_stops_the_customer_and_no_key_is_logged(
    make_client: Callable[..., AgentClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(key="not-the-agent-key-123")
    with caplog.at_level(logging.DEBUG), pytest.raises(AgentAuthFailed) as caught:
        client.ping()
    assert isinstance(caught.value, CustomerUnavailable)
    assert "not-the-agent-key-123" not in str(caught.value)
    assert "not-the-agent-key-123" not in caplog.text


def test_failing_calls_never_show_the_key(
    make_client: Callable[..., AgentClient], agent: RunningAgent, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(policy=BackoffPolicy(max_attempts=2, server_error_attempts=2, sleep=lambda _: None))
    agent.faults.fail_next("*", 4, status=500)
    failures: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        for call in (client.ping, client.health):
            with pytest.raises(RetryLater) as caught:
                call()
            failures.append(caught.value)
    assert len(caplog.records) >= 4
    for failure in failures:
        assert AGENT_KEY not in str(failure)
        assert AGENT_KEY not in repr(failure)
    assert AGENT_KEY not in caplog.text


def test_unknown_company_stops_the_customer(make_client: Callable[..., AgentClient]) -> None:
    with pytest.raises(CompanyNotServed, match="XYZ"):
        make_client(company="XYZ").vendors_page(updated_since=None)


def test_agent_offline_after_retries(
    make_client: Callable[..., AgentClient], policy_for: Callable[..., BackoffPolicy], fake_time: FakeTime
) -> None:
    client = make_client(base_url=f"https://127.0.0.1:{free_port()}", policy=policy_for(max_attempts=3))
    with pytest.raises(AgentOffline, match="cannot reach the agent"):
        client.health()
    assert len(fake_time.sleeps) == 2


def test_read_timeout_is_retried_then_retry_later(
    make_client: Callable[..., AgentClient],
    agent: RunningAgent,
    policy_for: Callable[..., BackoffPolicy],
    fake_time: FakeTime,
) -> None:
    client = make_client(timeouts=Timeouts(read=0.2), policy=policy_for(max_attempts=2))
    agent.faults.set_latency(1.0)
    with pytest.raises(RetryLater, match="ReadTimeout"):
        client.ping()
    assert len(fake_time.sleeps) == 1


def test_pinned_fingerprint_of_another_certificate_is_refused(
    make_client: Callable[..., AgentClient], other_certificate: object
) -> None:
    wrong = AgentTls(mode=TlsMode.PINNED, fingerprint_sha256="0" * 64)
    with pytest.raises(AgentTlsFailed, match="0000000000"):
        make_client(tls=wrong).health()


def test_agent_ca_bundle_mode(make_client: Callable[..., AgentClient], agent: RunningAgent) -> None:
    tls = AgentTls(mode=TlsMode.CA_BUNDLE, ca_bundle_pem=agent.certificate.cert_path.read_text())
    assert make_client(tls=tls).ping().company_code == "RCC"
    with pytest.raises(AgentTlsFailed):
        make_client(tls=AgentTls(mode=TlsMode.SYSTEM)).ping()


def test_malformed_request_fails_the_record_without_retry(client: AgentClient, fake_time: FakeTime) -> None:
    with pytest.raises(SageRequestRejected, match="limit"):
        client.vendors_page(updated_since=None, limit=5000)
    assert fake_time.sleeps == []
