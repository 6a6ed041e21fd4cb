"""GL accounts and segment values as enterprise codes; open invoices as coded AvidXchange invoices."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ml_connector.domain.avid import CodeRef
from ml_connector.domain.gl_mapping import ACCOUNTING_CODES_GROUP, account_code, segment_value_code
from ml_connector.domain.invoice_mapping import (
    CodedAccount,
    CodingBook,
    CodingNotReady,
    blocker_cleared,
    image_problem,
    limited_to_open_balance,
    to_new_invoice,
)
from ml_connector.domain.sage import GLAccount, OpenInvoice, SegmentValue
from ml_connector.errors import RecordRejected


def gl_account(**fields: Any) -> GLAccount:
    record = {
        "AccountKey": "000000123",
        "Account": "6100-02-300",
        "AccountDesc": "Concrete - Site work",
        "MainAccountCode": "6100",
        "AccountType": "05",
        "Status": "A",
        "Segments": [
            {"SegmentNo": 1, "SubAccountCode": "6100"},
            {"SegmentNo": 2, "SubAccountCode": "02"},
            {"SegmentNo": 3, "SubAccountCode": "300"},
        ],
        "DateUpdated": "20261101",
        "TimeUpdated": "9.50000",
    }
    record.update(fields)
    return GLAccount.model_validate(record)


@pytest.mark.parametrize(("status", "active"), [("A", True), ("I", False), ("D", False)])
def test_an_account_mirrors_its_own_sage_status_whatever_its_segment_values(status: str, active: bool) -> None:
    # Sage is the codes' master: an active account on a retired cost center stays active (the cost center is a code
    # of its own, and an invoice coded to both waits on the cost center, naming it).
    code = account_code(gl_account(Status=status))
    assert (code.group_name, code.code_value, code.is_active) == (ACCOUNTING_CODES_GROUP, "6100-02-300", active)


@pytest.mark.parametrize(("status", "active"), [("A", True), ("I", False), ("D", False)])
def test_segment_values_go_to_their_segments_group(status: str, active: bool) -> None:
    value = SegmentValue.model_validate(
        {"SegmentNo": 3, "SubAccountCode": "300", "SubAccountDesc": "Site work", "Status": status,
         "DateUpdated": "20261101", "TimeUpdated": "9.5"}
    )  # fmt: skip
    code = segment_value_code(value, "Cost Center")
    assert (code.group_name, code.code_value, code.description, code.is_active) == (
        "Cost Center",
        "300",
        "Site work",
        active,
    )


BOOK = CodingBook(
    accounts={
        "000000123": CodedAccount("6100-02-300", True, {"1": "6100", "2": "02", "3": "300"}),
        "000000124": CodedAccount("6200-02-400", True, {"1": "6200", "2": "02", "3": "400"}),
        "000000125": CodedAccount("6300-02-300", False, {"1": "6300", "2": "02", "3": "300"}),
        "000000126": CodedAccount("6400-02-999", True, {"1": "6400", "2": "02", "3": "999"}),
    },
    dimension_groups={3: "Cost Center"},
    segment_values={(3, "300"): True, (3, "400"): False},
)


def open_invoice(lines: list[tuple[str, str]], **fields: Any) -> OpenInvoice:
    amount = sum((Decimal(a) for _, a in lines), Decimal("0.00"))
    record = {
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "InvoiceNo": "10045",
        "HeaderSeqNo": "000000",
        "InvoiceDate": "20261102",
        "InvoiceDueDate": "20261202",
        "TermsCode": "01",
        "InvoiceAmt": str(amount),
        "Balance": str(amount),
        "HoldPayment": "N",
        "Comment": "November pour",
        "PurchaseOrderNo": "0004411",
        "Lines": [{"AccountKey": k, "Account": BOOK.accounts[k].account if k in BOOK.accounts else "9999-99-999",
                   "DistributionAmt": a, "Comment": "Concrete"} for k, a in lines],
        "HasImage": True,
        "DateUpdated": "20261102",
        "TimeUpdated": "10.0",
    }  # fmt: skip
    record.update(fields)
    return OpenInvoice.model_validate(record)


def test_an_invoice_maps_with_one_coded_distribution_per_line() -> None:
    invoice = to_new_invoice(open_invoice([("000000123", "1000.00"), ("000000123", "250.00")]), BOOK)
    assert invoice.number == "10045"
    assert invoice.vendor_external_code == "01-ACME"
    assert (invoice.invoice_date, invoice.due_date) == (dt.date(2026, 11, 2), dt.date(2026, 12, 2))
    assert invoice.gross_amount == Decimal("1250.00")
    assert (invoice.po_number, invoice.memo) == ("0004411", "November pour")
    assert [d.amount for d in invoice.distributions] == [Decimal("1000.00"), Decimal("250.00")]
    assert invoice.distributions[0].enterprise_codes == [
        CodeRef(group_name="Accounting Codes", code_value="6100-02-300"),
        CodeRef(group_name="Cost Center", code_value="300"),
    ]


def test_a_credit_memo_carries_over_as_a_negative_invoice() -> None:
    invoice = to_new_invoice(open_invoice([("000000123", "-80.00")]), BOOK)
    assert invoice.gross_amount == Decimal("-80.00")
    assert invoice.distributions[0].amount == Decimal("-80.00")


@pytest.mark.parametrize(
    ("lines", "fields", "error", "message"),
    [
        ([("000000999", "10.00")], {}, CodingNotReady, "GL account 9999-99-999 is not in AvidXchange yet"),
        ([("000000126", "10.00")], {}, CodingNotReady, "Cost Center 999 is not in AvidXchange yet"),
        ([("000000125", "10.00")], {}, CodingNotReady, "GL account 6300-02-300 is inactive in Sage 100"),
        (
            [("000000124", "10.00")],
            {},
            CodingNotReady,
            "Cost Center 400 (segment 3 of GL account 6200-02-400) is inactive in Sage 100",
        ),
        ([], {"InvoiceAmt": "10.00", "Balance": "10.00"}, RecordRejected, "has no GL distribution lines"),
        ([("000000123", "10.00")], {"InvoiceDueDate": "20261001"}, RecordRejected, "is before invoice date"),
    ],
)
def test_an_invoice_that_cannot_go_says_why(
    lines: list[tuple[str, str]], fields: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        to_new_invoice(open_invoice(lines, **fields), BOOK)


@pytest.mark.parametrize(
    ("content_type", "size", "problem"),
    [
        ("application/pdf", 25, None),
        ("image/TIFF", 20, None),
        ("image/png; charset=binary", 20, None),
        ("image/jpeg", None, None),
        ("image/gif", 10, "image type image/gif is not accepted"),
        ("", 10, "image type (none) is not accepted"),
        ("application/pdf", 26, "image is 26 bytes, over AvidXchange's limit of 25"),
    ],
)
def test_image_type_and_size_rules(content_type: str, size: int | None, problem: str | None) -> None:
    found = image_problem(content_type, size, 25)
    assert (found is None) if problem is None else (found is not None and found.startswith(problem))


@pytest.mark.parametrize(
    ("lines", "blocker"),
    [
        ([("000000999", "10.00")], "account:000000999"),
        ([("000000125", "10.00")], "account:000000125"),
        ([("000000124", "10.00")], "value:3:400"),
        ([("000000126", "10.00")], "value:3:999"),
    ],
)
def test_a_waiting_invoice_names_the_code_it_waits_on(lines: list[tuple[str, str]], blocker: str) -> None:
    with pytest.raises(CodingNotReady) as waiting:
        to_new_invoice(open_invoice(lines), BOOK)
    assert waiting.value.blocker == blocker
    assert not blocker_cleared(blocker, BOOK)


def test_a_blocker_clears_once_its_code_is_synced_and_active() -> None:
    revived = CodingBook(
        accounts={**BOOK.accounts, "000000125": dataclasses.replace(BOOK.accounts["000000125"], active=True)},
        dimension_groups=BOOK.dimension_groups,
        segment_values={**BOOK.segment_values, (3, "400"): True},
    )
    assert blocker_cleared("account:000000125", revived)
    assert blocker_cleared("value:3:400", revived)
    assert not blocker_cleared("vendor:01-ACME", revived), "a vendor is not a code"


@pytest.mark.parametrize(
    ("amount", "balance", "lines", "gross", "pushed_lines"),
    [
        ("1250.00", "1250.00", ["1000.00", "250.00"], "1250.00", ["1000.00", "250.00"]),
        ("1250.00", "500.00", ["1000.00", "250.00"], "500.00", ["400.00", "100.00"]),
        ("100.00", "33.33", ["33.34", "33.33", "33.33"], "33.33", ["11.11", "11.11", "11.11"]),
        ("100.00", "10.01", ["50.00", "50.00"], "10.01", ["5.00", "5.01"]),
        ("-80.00", "-80.00", ["-80.00"], "-80.00", ["-80.00"]),
    ],
)
def test_a_partly_paid_invoice_goes_for_its_open_balance_only(
    amount: str, balance: str, lines: list[str], gross: str, pushed_lines: list[str]
) -> None:
    invoice = open_invoice([("000000123", line) for line in lines], InvoiceAmt=amount, Balance=balance)
    pushed = limited_to_open_balance(invoice, to_new_invoice(invoice, BOOK))
    assert pushed.gross_amount == Decimal(gross)
    assert [d.amount for d in pushed.distributions] == [Decimal(x) for x in pushed_lines]
    assert sum(d.amount for d in pushed.distributions) == pushed.gross_amount
