"""The BOI backend's own conventions, exercised over the fake ProvideX object model."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from sage_agent.backend import AlreadyExists, BackendFailure, Busy, ChangeWindow, RecordLocked, WriteRefused
from sage_agent.boi import BoiBackend, BoiSettings, BoiStartupRefused
from sage_agent.boi.fake import FakeComRuntime, FakeSageCompany
from sage_agent.boi.names import OPEN_INVOICES
from sage_agent.boi.pool import PoolSettings
from sage_agent.boi.session import BoiSession, Login
from sage_agent.config import ConfigError, load_config
from sage_agent.records import ManualCheck
from sage_agent.runtime import build_backends
from sage_agent.sage_time import ManualClock
from tests.agent.conformance.targets import FakeSageControls, demo_backend, fake_company_like

TODAY = dt.datetime(2026, 11, 20, 9, 30)
TODAY_DATE = TODAY.date()


@pytest.fixture(scope="module")
def demo_company(tmp_path_factory: pytest.TempPathFactory) -> FakeSageCompany:
    clock = ManualClock(TODAY)
    return fake_company_like(demo_backend(tmp_path_factory.mktemp("demo"), clock), clock)


def open_backend(company: FakeSageCompany, **pool: float) -> tuple[BoiBackend, FakeComRuntime]:
    runtime = FakeComRuntime(company)
    settings = BoiSettings(
        login=Login(Path("C:/Sage/MAS90/Home"), "agent", "secret", company.code),
        pool=PoolSettings(**{"size": 2, "wait_seconds": 5.0, **pool}),  # type: ignore[arg-type]
    )
    return BoiBackend(runtime, settings, clock=company.clock), runtime


@pytest.fixture
def boi(demo_company: FakeSageCompany) -> Iterator[tuple[BoiBackend, FakeComRuntime]]:
    backend, runtime = open_backend(demo_company)
    yield backend, runtime
    backend.close()


_check_numbers = iter(range(700_000, 800_000))


def payment(invoice_no: str, amount: str, *, day: dt.date = TODAY_DATE) -> ManualCheck:
    return ManualCheck.model_validate(
        {
            "BankCode": "A",
            "CheckNo": f"{next(_check_numbers):010d}",
            "CheckDate": day.strftime("%Y%m%d"),
            "APDivisionNo": "01",
            "VendorNo": "ACME",
            "PaymentMethod": "virtual_card",
            "Reference": "4242",
            "Lines": [{"InvoiceNo": invoice_no, "AmountPaid": amount}],
        }
    )


def new_invoice(company: FakeSageCompany, prefix: str, amount: str = "100.00") -> str:
    invoice_no = f"{prefix}{next(_check_numbers) % 10_000:04d}"
    FakeSageControls(company).enter_invoice("01", "ACME", invoice_no, Decimal(amount))
    return invoice_no


def test_string_columns_carry_the_dollar_suffix_and_numbers_do_not(demo_company: FakeSageCompany) -> None:
    runtime = FakeComRuntime(demo_company)
    runtime.initialize_thread()
    session = BoiSession(runtime, Login(Path("C:/Sage"), "agent", "secret", demo_company.code), TODAY.date())
    with session.open(OPEN_INVOICES) as invoices:
        invoices.nSetBrowseFilter("")
        assert invoices.nMoveFirst() == 1
        assert invoices.nGetValue("VendorNo", "")[0] == 0, "without $ the column does not exist"
        result, vendor_no = invoices.nGetValue("VendorNo$", "")
        assert (result, type(vendor_no)) == (1, str)
        result, balance = invoices.nGetValue("Balance", 0)
        assert (result, type(balance)) == (1, float)
    session.close()


def test_reads_match_the_company(boi: tuple[BoiBackend, FakeComRuntime], demo_company: FakeSageCompany) -> None:
    backend, _ = boi
    vendor = backend.read_vendor("01", "ACME")
    assert vendor is not None and vendor.VendorName == demo_company.get("AP_Vendor", ("01", "ACME"))["VendorName$"]  # type: ignore[index]
    assert backend.read_vendor("01", "NOBODY") is None
    invoice = backend.read_open_invoice("01", "ACME", "10045")
    assert invoice is not None and sum(line.DistributionAmt for line in invoice.Lines) == invoice.InvoiceAmt
    page = backend.browse_vendors(ChangeWindow(limit=5))
    assert [v.change_position() for v in page] == sorted(v.change_position() for v in page)


def test_new_key_writes_and_existing_key_answers_already_exists(
    boi: tuple[BoiBackend, FakeComRuntime], demo_company: FakeSageCompany
) -> None:
    backend, _ = boi
    invoice_no = new_invoice(demo_company, "K")
    check = payment(invoice_no, "30.00")
    result = backend.record_manual_check(check, post=False)
    assert result.Posted is False
    with pytest.raises(AlreadyExists) as raised:
        backend.record_manual_check(check, post=False)
    assert raised.value.existing.Posted is False
    assert raised.value.existing.Reference == "4242"
    assert raised.value.existing.PaymentMethod.value == "virtual_card"


def test_a_warning_return_is_logged_and_the_write_goes_on(
    boi: tuple[BoiBackend, FakeComRuntime], demo_company: FakeSageCompany, caplog: pytest.LogCaptureFixture
) -> None:
    backend, _ = boi
    invoice_no = new_invoice(demo_company, "W")
    next_month = dt.date(2026, 12, 2)
    with caplog.at_level(logging.WARNING, logger="sage_agent.boi"):
        result = backend.record_manual_check(payment(invoice_no, "10.00", day=next_month), post=True)
    assert result.Posted is True
    assert "future period" in caplog.text


def test_a_failed_register_update_reports_posted_false_truthfully(
    boi: tuple[BoiBackend, FakeComRuntime], demo_company: FakeSageCompany
) -> None:
    backend, _ = boi
    invoice_no = new_invoice(demo_company, "U")
    demo_company.fail_next_register_update("Another user is running the Manual Check Register.")
    check = payment(invoice_no, "25.00")
    assert backend.record_manual_check(check, post=True).Posted is False
    recorded = backend.read_manual_check(check.BankCode, check.CheckNo)
    assert recorded is not None and recorded.Posted is False
    invoice = backend.read_open_invoice("01", "ACME", invoice_no)
    assert invoice is not None and invoice.Balance == Decimal("100.00")


def test_a_lock_is_record_locked_and_nothing_is_written(
    boi: tuple[BoiBackend, FakeComRuntime], demo_company: FakeSageCompany
) -> None:
    backend, _ = boi
    invoice_no = new_invoice(demo_company, "B")
    check = payment(invoice_no, "5.00")
    with demo_company.locked("AP_Vendor", "01", "ACME"), pytest.raises(RecordLocked, match="Record/file busy"):
        backend.record_manual_check(check, post=True)
    assert backend.read_manual_check(check.BankCode, check.CheckNo) is None


def test_a_refused_value_names_its_field(boi: tuple[BoiBackend, FakeComRuntime], demo_company: FakeSageCompany) -> None:
    backend, _ = boi
    with pytest.raises(WriteRefused) as raised:
        backend.record_manual_check(payment(new_invoice(demo_company, "F"), "100.01"), post=True)
    assert [p.field for p in raised.value.fields] == ["Lines[0].AmountPaid"]


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (lambda access: access.external_access.clear(), "Allow External Access"),
        (lambda access: access.users.update(agent="other"), "user code and password"),
        (lambda access: access.modules.clear(), "Accounts Payable module"),
        (lambda access: access.denied_tasks.add("AP_ManualCheck_ui"), "AP_ManualCheck_ui"),
    ],
)
def test_start_is_refused_with_the_sage_setting_to_change(tmp_path: Path, change: object, names: str) -> None:
    company = FakeSageCompany("RCC", clock=ManualClock(TODAY))
    change(company.access)  # type: ignore[operator]
    backend, _ = open_backend(company)
    with pytest.raises(BoiStartupRefused, match=names) as raised:
        backend.verify_access()
    assert "\n" not in str(raised.value)
    backend.close()


def test_every_session_in_use_is_busy(demo_company: FakeSageCompany) -> None:
    backend, _ = open_backend(demo_company, size=1, wait_seconds=0)
    inside, release = threading.Event(), threading.Event()

    def hold(_session: BoiSession) -> None:
        inside.set()
        release.wait(10)

    holder = threading.Thread(target=lambda: backend._pool.run(hold))
    holder.start()
    assert inside.wait(10)
    with pytest.raises(Busy) as raised:
        backend.company_info()
    assert raised.value.retry_after > 0
    release.set()
    holder.join(10)
    assert backend.company_info().CompanyCode == "RCC"
    backend.close()


def test_sessions_are_recycled_after_a_com_error_and_with_age(demo_company: FakeSageCompany) -> None:
    backend, runtime = open_backend(demo_company, size=1)
    backend.company_info()
    assert runtime.sessions_opened == 1
    runtime.fail_next_call("nFind")
    with pytest.raises(BackendFailure, match="COM error"):
        backend.company_info()
    backend.company_info()
    assert runtime.sessions_opened == 2
    assert runtime.sessions_cleaned == 1
    backend.close()
    aged, aged_runtime = open_backend(demo_company, size=1, max_age_seconds=0)
    aged.company_info()
    aged.company_info()
    assert aged_runtime.sessions_opened == 2
    aged.close()
    assert len(aged_runtime.initialized_threads) == 1 and aged_runtime.uninitialized == 1


def test_a_boi_company_from_the_config_file_logs_in_and_refuses_in_one_sentence(
    tmp_path: Path, demo_company: FakeSageCompany
) -> None:
    (tmp_path / "sage-password.txt").write_text("secret\n", "utf-8")
    (tmp_path / "agent.toml").write_text(
        '[auth]\nagent_keys = ["a-long-enough-agent-key"]\n[companies.RCC]\nkind = "boi"\n'
        'sage_home = \'C:\\\\Sage\\\\MAS90\\\\Home\'\nuser = "agent"\npassword_file = "sage-password.txt"\n'
        "sessions = 1\nimage_patterns = ['scans/{VendorNo}/{InvoiceNo}.*']\n",
        "utf-8",
    )
    config = load_config(tmp_path / "agent.toml")
    backends = build_backends(config, demo_company.clock, lambda: FakeComRuntime(demo_company))
    assert backends["RCC"].company_info().CompanyName == "Redrock Construction Co."
    (tmp_path / "sage-password.txt").write_text("wrong", "utf-8")
    with pytest.raises(ConfigError, match=r"^companies\.RCC: Sage 100 refused user agent: check the user code"):
        build_backends(config, demo_company.clock, lambda: FakeComRuntime(demo_company))
