"""The AvidConnect client against the simulator over real HTTPS: paging, batches, errors, retries, faults."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from avid_sim.testing import RunningAvid, running_avid
from ml_connector.adapters.avid_client import AvidClient
from ml_connector.adapters.backoff import BackoffPolicy
from ml_connector.adapters.pacing import Pacer
from ml_connector.connections import AvidConnection, Timeouts
from ml_connector.domain.avid import (
    ACCOUNTING_CODES,
    AvidVendor,
    CodeRef,
    Distribution,
    EnterpriseCode,
    NewInvoice,
    PaymentMethodName,
    PaymentStatus,
)
from ml_connector.errors import (
    AvidAuthFailed,
    AvidRejected,
    CustomerUnavailable,
    OutcomeUnknown,
    RecordRejected,
    RetryLater,
)

from .conftest import FakeTime

VENDOR = "01-ACME"
ACCOUNT = "6100-02-300"
LOG_NAME = "test.avid"


@pytest.fixture(scope="module")
def avid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAvid]:
    with running_avid(tmp_path_factory.mktemp("avid"), company_token="co-tok-5f1e", user_token="user-tok-93ab") as sim:
        yield sim


@pytest.fixture(autouse=True)
def _no_faults(avid: RunningAvid) -> Iterator[None]:
    avid.controls.reset_faults()
    yield
    avid.controls.reset_faults()


def connection_for(avid: RunningAvid, **overrides: object) -> AvidConnection:
    settings: dict[str, object] = {
        "base_url": avid.url,
        "ca_bundle_pem": avid.certificate.cert_path.read_text(),
        "company_token_header": avid.company_header,
        "user_token_header": avid.user_header,
        **overrides,
    }
    return AvidConnection.model_validate(settings)


@pytest.fixture
def make_client(
    avid: RunningAvid, policy_for: Callable[..., BackoffPolicy], fake_pacer: Pacer
) -> Iterator[Callable[..., AvidClient]]:
    clients: list[AvidClient] = []

    def build(
        *,
        policy: BackoffPolicy | None = None,
        company_token: str | None = None,
        max_spooled_image_bytes: int = 25 * 1024 * 1024,
        **overrides: object,
    ) -> AvidClient:
        client = AvidClient(
            connection_for(avid, **overrides),
            company_token or avid.company_token,
            avid.user_token,
            retry_policy=policy or policy_for(),
            pacer=fake_pacer,
            max_spooled_image_bytes=max_spooled_image_bytes,
            logger=logging.getLogger(LOG_NAME),
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., AvidClient]) -> AvidClient:
    return make_client()


@pytest.fixture(scope="module", autouse=True)
def _vendor_and_account(avid: RunningAvid) -> None:
    connection = connection_for(avid)
    with AvidClient(connection, avid.company_token, avid.user_token) as setup:
        assert setup.upsert_vendors([AvidVendor(external_vendor_code=VENDOR, name="Acme Concrete")])[0].successful
        codes = [EnterpriseCode(group_name=ACCOUNTING_CODES, code_value=ACCOUNT, description="Materials")]
        assert setup.upsert_enterprise_codes(codes)[0].successful


def new_invoice(number: str, amount: str = "100.00") -> NewInvoice:
    return NewInvoice(
        number=number,
        vendor_external_code=VENDOR,
        invoice_date=dt.date(2026, 11, 2),
        due_date=dt.date(2026, 12, 2),
        gross_amount=Decimal(amount),
        distributions=[
            Distribution(
                amount=Decimal(amount), enterprise_codes=[CodeRef(group_name=ACCOUNTING_CODES, code_value=ACCOUNT)]
            )
        ],
    )


def test_company_answers_for_the_tokens(client: AvidClient) -> None:
    assert client.company().company_id == "C-4242"


def test_wrong_token_stops_the_customer_and_never_shows_a_token(
    make_client: Callable[..., AvidClient], avid: RunningAvid, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(company_token="wrong-company-token-77")
    with caplog.at_level(logging.DEBUG), pytest.raises(AvidAuthFailed) as caught:
        client.company()
    assert isinstance(caught.value, CustomerUnavailable)
    for secret in ("wrong-company-token-77", avid.user_token):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


def test_custom_token_header_names(tmp_path: Path) -> None:
    with running_avid(tmp_path, company_header="Avid-Company", user_header="Avid-User") as sim:
        connection = AvidConnection(
            base_url=sim.url,
            ca_bundle_pem=sim.certificate.cert_path.read_text(),
            company_token_header="Avid-Company",
            user_token_header="Avid-User",
        )
        with AvidClient(connection, sim.company_token, sim.user_token) as client:
            assert client.company().name
        default_names = connection.model_copy(update={"company_token_header": "X-Company-Token"})
        with AvidClient(default_names, sim.company_token, sim.user_token) as client, pytest.raises(AvidAuthFailed):
            client.company()


def test_vendor_batches_return_every_item_in_input_order(client: AvidClient, avid: RunningAvid) -> None:
    vendors = [
        AvidVendor(external_vendor_code=f"02-V{n:04d}", name="" if n % 50 == 7 else f"Vendor {n}") for n in range(230)
    ]
    results = client.upsert_vendors(vendors)
    assert len(results) == 230
    failed = [n for n, result in enumerate(results) if not result.successful]
    assert failed == [7, 57, 107, 157, 207]
    assert all(results[n].errors for n in failed)
    assert [r.item["ExternalVendorCode"] for r in results] == [v.external_vendor_code for v in vendors]
    assert all(r.id for r in results if r.successful)
    assert len([code for code in avid.state.vendors if code.startswith("02-V")]) == 225


def test_vendor_listing_pages_through_everything(make_client: Callable[..., AvidClient]) -> None:
    client = make_client(page_size=7)
    client.upsert_vendors([AvidVendor(external_vendor_code=f"03-P{n:03d}", name=f"P {n}") for n in range(30)])
    listed = [v.external_vendor_code for v in client.iter_vendors() if v.external_vendor_code.startswith("03-P")]
    assert listed == [f"03-P{n:03d}" for n in range(30)]
    found = client.find_vendor("03-P017")
    assert found is not None
    assert found.name == "P 17"
    assert client.find_vendor("03-NOPE") is None


def test_enterprise_codes_in_batches_of_500_and_listed_by_group(client: AvidClient, avid: RunningAvid) -> None:
    codes = [EnterpriseCode(group_name="Cost Center", code_value=f"{n:04d}", description=f"CC {n}") for n in range(620)]
    results = client.upsert_enterprise_codes(codes)
    assert len(results) == 620
    assert all(r.successful for r in results)
    listed = list(client.iter_enterprise_codes(group_name="Cost Center"))
    assert sorted(c.code_value for c in listed) == [f"{n:04d}" for n in range(620)]
    assert len([key for key in avid.state.enterprise_codes if key[0] == "Cost Center"]) == 620


def test_invoice_create_find_get(client: AvidClient) -> None:
    created = client.create_invoice(new_invoice("A-1"))
    assert created.status.value == "Received"
    assert [i.id for i in client.find_invoices(vendor_external_code=VENDOR, number="A-1")] == [created.id]
    fetched = client.get_invoice(created.id)
    assert fetched is not None
    assert fetched.gross_amount == Decimal("100.00")
    assert client.get_invoice("I-999999") is None


def test_invoice_for_an_unknown_vendor_is_rejected_with_the_reason(client: AvidClient) -> None:
    invoice = new_invoice("A-2").model_copy(update={"vendor_external_code": "09-NOBODY"})
    with pytest.raises(AvidRejected, match="09-NOBODY") as caught:
        client.create_invoice(invoice)
    assert isinstance(caught.value, RecordRejected)


def test_rate_limit_is_retried_after_retry_after(
    make_client: Callable[..., AvidClient], avid: RunningAvid, fake_time: FakeTime
) -> None:
    client = make_client()
    avid.controls.inject("rate_limit", next_calls=2, endpoint=("GET", "/v1/company"), retry_after=3)
    assert client.company().company_id == "C-4242"
    assert fake_time.sleeps == [3.0, 3.0]


def test_rate_limit_that_persists_gives_up_with_retry_later(
    make_client: Callable[..., AvidClient], avid: RunningAvid, policy_for: Callable[..., BackoffPolicy]
) -> None:
    client = make_client(policy=policy_for(max_attempts=3))
    avid.controls.inject("rate_limit", share=1.0, endpoint=("GET", "/v1/company"), retry_after=2)
    with pytest.raises(RetryLater) as caught:
        client.company()
    assert caught.value.retry_after == 2.0
    assert len([f for f in avid.controls.faults.fired if f[2] == "/v1/company"]) >= 3


def test_server_errors_are_retried_and_never_leak_tokens(
    make_client: Callable[..., AvidClient], avid: RunningAvid, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    avid.controls.inject("server_error", share=1.0, status=500, endpoint=("GET", "/v1/company"))
    with caplog.at_level(logging.DEBUG), pytest.raises(RetryLater) as caught:
        client.company()
    assert "500" in str(caught.value)
    assert "***" in str(caught.value)  # the echoed headers were there, and were scrubbed
    assert caplog.records
    for secret in (avid.company_token, avid.user_token):
        assert secret not in str(caught.value)
        assert secret not in caplog.text
        assert secret not in repr(caught.value.__cause__)


def test_a_read_timeout_is_retried_for_reads(
    make_client: Callable[..., AvidClient], avid: RunningAvid, fake_time: FakeTime
) -> None:
    client = make_client(timeouts=Timeouts(read=0.3))
    avid.controls.inject("timeout", next_calls=1, endpoint=("GET", "/v1/company"), hold_seconds=3)
    assert client.company().company_id == "C-4242"
    assert len(fake_time.sleeps) == 1


def test_a_dropped_connection_is_retried_for_reads(client: AvidClient, avid: RunningAvid) -> None:
    avid.controls.inject("drop", next_calls=2, endpoint=("GET", "/v1/company"))
    assert client.company().company_id == "C-4242"


@pytest.mark.parametrize("kind", ["drop", "timeout", "server_error"])
def test_invoice_create_is_never_repeated_when_it_may_have_happened(
    make_client: Callable[..., AvidClient], avid: RunningAvid, kind: str
) -> None:
    client = make_client(timeouts=Timeouts(read=0.3))
    number = f"U-{kind}"
    avid.controls.inject(
        kind, next_calls=1, endpoint=("POST", "/v1/invoices"), processed=True, status=500, hold_seconds=3
    )
    with pytest.raises(OutcomeUnknown, match="look it up"):
        client.create_invoice(new_invoice(number))
    assert len(client.find_invoices(vendor_external_code=VENDOR, number=number)) == 1


def test_invoice_create_is_retried_when_it_certainly_did_not_happen(
    client: AvidClient, avid: RunningAvid, fake_time: FakeTime
) -> None:
    avid.controls.inject("rate_limit", next_calls=1, endpoint=("POST", "/v1/invoices"), retry_after=1)
    created = client.create_invoice(new_invoice("R-1"))
    assert [i.id for i in client.find_invoices(vendor_external_code=VENDOR, number="R-1")] == [created.id]
    assert fake_time.sleeps == [1.0]


def test_image_upload_streams_the_chunks(client: AvidClient, avid: RunningAvid) -> None:
    invoice = client.create_invoice(new_invoice("IMG-1"))
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield b"%PDF-1.4\n"
        for n in range(20):
            pulled.append(n)
            yield bytes([n % 256]) * 65536

    client.upload_invoice_image(invoice.id, filename="IMG-1.pdf", content_type="application/pdf", content=chunks())
    expected = hashlib.sha256(b"%PDF-1.4\n" + b"".join(bytes([n]) * 65536 for n in range(20))).hexdigest()
    assert pulled == list(range(20))
    fetched = client.get_invoice(invoice.id)
    assert fetched is not None
    assert fetched.has_image
    assert fetched.image_sha256 == expected


def test_image_upload_over_the_spool_limit_is_not_repeated(
    make_client: Callable[..., AvidClient], avid: RunningAvid, fake_time: FakeTime
) -> None:
    client = make_client(max_spooled_image_bytes=8)
    invoice = client.create_invoice(new_invoice("IMG-2"))
    avid.controls.inject("rate_limit", next_calls=1, endpoint=("POST", "/v1/invoices/{Id}/image"), retry_after=4)
    with pytest.raises(RetryLater) as caught:
        client.upload_invoice_image(
            invoice.id, filename="a.png", content_type="image/png", content=[b"\x89PNG\r\n\x1a\n", b"more"]
        )
    assert caught.value.retry_after == 4.0
    assert fake_time.sleeps == []
    fetched = client.get_invoice(invoice.id)
    assert fetched is not None
    assert not fetched.has_image


def test_image_upload_to_an_unknown_invoice_is_rejected(client: AvidClient) -> None:
    with pytest.raises(AvidRejected):
        client.upload_invoice_image(
            "I-404404", filename="a.pdf", content_type="application/pdf", content=[b"%PDF-1.4\n"]
        )


def approved_invoice(client: AvidClient, avid: RunningAvid, number: str) -> str:
    invoice_id = client.create_invoice(new_invoice(number)).id
    avid.controls.start_approval(invoice_id)
    avid.controls.approve(invoice_id)
    return invoice_id


def test_payments_over_70_days_come_in_30_day_windows_each_once(client: AvidClient, avid: RunningAvid) -> None:
    start = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    made: list[str] = []
    try:
        for day in (0, 29, 30, 31, 60, 69):
            avid.clock.set(start + dt.timedelta(days=day))
            made.append(avid.controls.pay([approved_invoice(client, avid, f"PAY-{day}")], method="ACH").payment_id)
        avid.clock.set(start + dt.timedelta(days=90))
        avid.controls.clear_payment(made[0])  # moves out of the window
        seen = list(client.iter_payments(modified_from=start, modified_to=start + dt.timedelta(days=70)))
    finally:
        avid.clock.resume()
    assert [p.payment_id for p in seen] == made[1:]
    assert all(p.payment_method.description is PaymentMethodName.ACH for p in seen)
    assert all(p.ach_trace_number for p in seen)
    payment = client.get_payment(made[0])
    assert payment is not None
    assert payment.status.description is PaymentStatus.CLEARED
    assert client.get_payment("P-0") is None


def test_payment_window_needs_absolute_times(client: AvidClient) -> None:
    with pytest.raises(ValueError, match="time zone"):
        next(client.iter_payments(modified_from=dt.datetime(2027, 1, 1), modified_to=dt.datetime(2027, 1, 2)))
