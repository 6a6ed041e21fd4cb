"""The simulated company's Python API: Sage's rules on writes, stamps on every write, locks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from sage_agent.backend import ChangeWindow, InvoiceFilter, RecordLocked, WriteRefused
from sage_agent.records import InvoiceHeaderFields, VendorFields
from sage_agent.sage_time import ManualClock, SageStamp
from sage_agent.simulated import SimulatedBackend
from sage_agent.simulated.generator import EMPTY_SHAPE, generate_company
from sage_agent.simulated.store import GL_ACCOUNT_TABLE, VENDOR_TABLE, Distribution

START = dt.datetime(2026, 11, 20, 9, 0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def backend(tmp_path: Path, clock: ManualClock) -> SimulatedBackend:
    generate_company(tmp_path / "RCC.sqlite", EMPTY_SHAPE, START - dt.timedelta(days=1))
    return SimulatedBackend(tmp_path / "RCC.sqlite", clock=clock)


def vendor(**changes: str) -> VendorFields:
    return VendorFields.model_validate(
        {"APDivisionNo": "01", "VendorNo": "BOLT", "VendorName": "Bolt Fasteners", "TermsCode": "01"} | changes
    )


def header(**changes: str) -> InvoiceHeaderFields:
    fields = {"APDivisionNo": "01", "VendorNo": "BOLT", "InvoiceNo": "B-1", "InvoiceDate": "20261118"}
    return InvoiceHeaderFields.model_validate(fields | {"InvoiceDueDate": "20261218"} | changes)


def test_every_write_is_stamped_with_the_agent_clock(backend: SimulatedBackend, clock: ManualClock) -> None:
    created = backend.create_vendor(vendor())
    assert (created.DateCreated, created.TimeCreated) == ("20261120", "9.00000")
    assert (created.DateUpdated, created.TimeUpdated) == ("20261120", "9.00000")
    clock.advance(dt.timedelta(minutes=30))
    updated = backend.update_vendor("01", "BOLT", VendorStatus="I", HoldPayment="Y")
    assert (updated.VendorStatus, updated.HoldPayment) == ("I", "Y")
    assert (updated.DateCreated, updated.TimeCreated) == ("20261120", "9.00000")
    assert (updated.DateUpdated, updated.TimeUpdated) == ("20261120", "9.50000")


def test_stamps_strictly_increase_while_the_clock_stands_still(backend: SimulatedBackend) -> None:
    backend.create_vendor(vendor())
    stamps = [backend.update_vendor("01", "BOLT", City=f"Mesa {n}").change_position()[0] for n in range(5)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 5


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"VendorName": "X" * 31}, "VendorName"),
        ({"State": "ARZ"}, "State"),
        ({"VendorStatus": "Z"}, "VendorStatus"),
        ({"HoldPayment": "yes"}, "HoldPayment"),
        ({"TaxpayerIDSocialSecurityNo": "12-345"}, "TaxpayerIDSocialSecurityNo"),
    ],
)
def test_vendor_field_rules_are_enforced(backend: SimulatedBackend, changes: dict[str, str], field: str) -> None:
    backend.create_vendor(vendor())
    before = backend.read_vendor("01", "BOLT")
    with pytest.raises(WriteRefused) as refused:
        backend.update_vendor("01", "BOLT", **changes)
    assert [p.field for p in refused.value.fields] == [field]
    assert "vendor 01-BOLT" in refused.value.message
    assert backend.read_vendor("01", "BOLT") == before, "a refused write changes nothing, not even the stamp"


def test_vendors_need_an_existing_division_and_a_unique_number(backend: SimulatedBackend) -> None:
    with pytest.raises(WriteRefused, match="AP division 07 does not exist"):
        backend.create_vendor(vendor(APDivisionNo="07"))
    backend.create_vendor(vendor())
    with pytest.raises(WriteRefused, match="already exists"):
        backend.create_vendor(vendor())


def test_a_locked_record_refuses_writes_until_released(backend: SimulatedBackend) -> None:
    backend.create_vendor(vendor())
    with backend.locked(VENDOR_TABLE, "01", "BOLT", retry_after=4), pytest.raises(RecordLocked) as locked:
        backend.update_vendor("01", "BOLT", City="Tempe")
    assert locked.value.retry_after == 4
    assert locked.value.message == "Record/file busy: AP_Vendor 01 BOLT"
    assert backend.update_vendor("01", "BOLT", City="Tempe").City == "Tempe"


def test_invoice_lifecycle(backend: SimulatedBackend, clock: ManualClock) -> None:
    backend.create_vendor(vendor())
    invoice = backend.create_invoice(
        header(),
        [Distribution("501001300", Decimal("100.00")), Distribution("620001100", Decimal("25.50"), "power")],
    )
    assert (invoice.InvoiceAmt, invoice.Balance, invoice.HasImage) == (Decimal("125.50"), Decimal("125.50"), False)
    assert [line.Account for line in invoice.Lines] == ["5010-01-300", "6200-01-100"]

    clock.advance(dt.timedelta(minutes=1))
    on_hold = backend.update_invoice("01", "BOLT", "B-1", HoldPayment="Y", Comment="Disputed")
    assert (on_hold.HoldPayment, on_hold.Comment) == ("Y", "Disputed")
    assert on_hold.change_position()[0] > invoice.change_position()[0]

    replaced = backend.replace_invoice_lines("01", "BOLT", "B-1", [Distribution("501001300", Decimal("90.00"))])
    assert (replaced.InvoiceAmt, replaced.Balance) == (Decimal("90.00"), Decimal("90.00"))

    backend.delete_invoice("01", "BOLT", "B-1")
    assert backend.read_open_invoice("01", "BOLT", "B-1") is None
    assert backend.browse_open_invoices(ChangeWindow(limit=10), InvoiceFilter()) == []


def test_invoice_rules(backend: SimulatedBackend) -> None:
    with pytest.raises(WriteRefused) as refused:
        backend.create_invoice(header(), [Distribution("999999999", Decimal("1.00"))])
    assert {p.field for p in refused.value.fields} == {"VendorNo", "Lines[0].AccountKey"}
    backend.create_vendor(vendor())
    backend.set_gl_account_status("501001300", "I")
    with pytest.raises(WriteRefused, match="GL account 501001300 is not active"):
        backend.create_invoice(header(), [Distribution("501001300", Decimal("1.00"))])
    with pytest.raises(WriteRefused, match="at least one distribution line"):
        backend.create_invoice(header(), [])


def test_gl_changes_show_on_their_feeds(backend: SimulatedBackend, clock: ManualClock) -> None:
    since = SageStamp.at(clock.now())
    backend.set_gl_account_status("640002200", "I")
    backend.create_segment_value(3, "700", "Warehouse")
    backend.set_segment_value_status(2, "02", "D")
    account = backend.create_gl_account("6400-02-700", "Professional Fees - Warehouse", account_type="06")
    assert account.Segments[2].SubAccountCode == "700"

    accounts = backend.browse_gl_accounts(ChangeWindow(limit=10, since=since))
    assert [(a.AccountKey, a.Status) for a in accounts] == [("640002200", "I"), ("640002700", "A")]
    values = backend.browse_segment_values(ChangeWindow(limit=10, since=since), None)
    assert [(v.SegmentNo, v.SubAccountCode, v.Status) for v in values] == [(3, "700", "A"), (2, "02", "D")]


def test_gl_rules(backend: SimulatedBackend) -> None:
    with pytest.raises(WriteRefused, match="segment 3 value 999 does not exist"):
        backend.create_gl_account("6400-02-999", "Nothing")
    with pytest.raises(WriteRefused, match="lengths"):
        backend.create_gl_account("64-02-100", "Short")
    with pytest.raises(WriteRefused, match="status must be A, I or D"):
        backend.set_gl_account_status("640002200", "X")
    with backend.locked(GL_ACCOUNT_TABLE, "640002200"), pytest.raises(RecordLocked):
        backend.set_gl_account_status("640002200", "I")


def test_images_attach_replace_and_remove(backend: SimulatedBackend) -> None:
    backend.create_vendor(vendor())
    backend.create_invoice(header(), [Distribution("501001300", Decimal("10.00"))])
    big = bytes(range(256)) * 20_000
    backend.attach_image("01", "BOLT", "B-1", big, "image/tiff")
    image = backend.read_invoice_image("01", "BOLT", "B-1")
    assert image is not None
    chunks = list(image.chunks())
    assert len(chunks) > 1, "streamed in chunks"
    assert b"".join(chunks) == big
    assert (image.size, image.content_type) == (len(big), "image/tiff")
    with pytest.raises(WriteRefused, match="image/gif"):
        backend.attach_image("01", "BOLT", "B-1", b"GIF89a", "image/gif")
    backend.remove_image("01", "BOLT", "B-1")
    assert backend.read_invoice_image("01", "BOLT", "B-1") is None
    assert backend.read_open_invoice("01", "BOLT", "B-1").HasImage is False  # type: ignore[union-attr]
