"""Sage 100 records read from positioned BOI objects into the contract's records."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sage_agent.backend import ChangeWindow
from sage_agent.boi.calls import browse, find, get_amount, get_int, get_text
from sage_agent.boi.names import (
    CHECK_HISTORY_HEADERS,
    CHECK_HISTORY_LINES,
    MANUAL_CHECK_HEADERS,
    MANUAL_CHECK_LINES,
    PAYMENT_TYPES,
    key_prefix,
)
from sage_agent.boi.session import BoiSession
from sage_agent.records import (
    AccountSegment,
    ChangeTracked,
    GLAccount,
    InvoiceLine,
    ManualCheckLine,
    RecordedManualCheck,
    SegmentValue,
    Vendor,
    VendorFields,
)
from sage_agent.sage_time import SageStamp

R = TypeVar("R", bound=ChangeTracked)
_VENDOR_TEXT = (*VendorFields.model_fields, "DateCreated", "TimeCreated", "DateUpdated", "TimeUpdated")
_PAYMENT_METHODS = {code: method for method, code in PAYMENT_TYPES.items()}


def texts(obj: Any, fields: Iterable[str]) -> dict[str, str]:
    return {field: get_text(obj, f"{field}$") for field in fields}


def vendor(obj: Any) -> Vendor:
    return Vendor(**texts(obj, _VENDOR_TEXT))


def gl_account(obj: Any) -> GLAccount:
    values = texts(
        obj,
        (
            "AccountKey",
            "Account",
            "AccountDesc",
            "MainAccountCode",
            "AccountType",
            "Status",
            "DateUpdated",
            "TimeUpdated",
        ),
    )
    segments = [
        AccountSegment(SegmentNo=number, SubAccountCode=code)
        for number, code in enumerate(values["Account"].split("-"), start=1)
    ]
    return GLAccount(**values, Segments=segments)


def segment_value(obj: Any) -> SegmentValue:
    return SegmentValue(
        SegmentNo=get_int(obj, "SegmentNo"),
        **texts(obj, ("SubAccountCode", "SubAccountDesc", "Status", "DateUpdated", "TimeUpdated")),
    )


def invoice_lines(detail: Any, key: dict[str, str], accounts: Callable[[str], str]) -> list[InvoiceLine]:
    """The invoice's GL distribution from an open history-detail object, each line with its formatted account."""
    return [
        InvoiceLine(
            AccountKey=get_text(line, "AccountKey$"),
            Account=accounts(get_text(line, "AccountKey$")),
            DistributionAmt=get_amount(line, "DistributionAmt"),
            Comment=get_text(line, "Comment$"),
        )
        for line in browse(detail, key_prefix(key))
    ]


def manual_check(session: BoiSession, bank_code: str, check_no: str) -> RecordedManualCheck | None:
    """A manual check from the entry file (not yet posted) or from check history (posted)."""
    for headers, lines, posted in (
        (MANUAL_CHECK_HEADERS, MANUAL_CHECK_LINES, False),
        (CHECK_HISTORY_HEADERS, CHECK_HISTORY_LINES, True),
    ):
        key = {"BankCode$": bank_code, "CheckNo$": check_no}
        with session.open(headers) as header:
            if not find(header, key):
                continue
            values = texts(header, ("CheckDate", "APDivisionNo", "VendorNo", "Reference", "Comment"))
            method = _PAYMENT_METHODS.get(get_text(header, "PaymentType$"), "check")
        with session.open(lines) as detail:
            check_lines = [
                ManualCheckLine(
                    InvoiceNo=get_text(line, "InvoiceNo$"),
                    HeaderSeqNo=get_text(line, "HeaderSeqNo$"),
                    AmountPaid=get_amount(line, "AmountPaid"),
                    DiscountAmt=get_amount(line, "DiscountAmt"),
                )
                for line in browse(detail, key_prefix(key))
            ]
        return RecordedManualCheck(
            BankCode=bank_code, CheckNo=check_no, PaymentMethod=method, Lines=check_lines, Posted=posted, **values
        )
    return None


def in_window(records: Iterable[R], window: ChangeWindow) -> list[R]:
    """The records a change-feed window asks for, in (DateUpdated, TimeUpdated, key) order."""
    chosen = []
    for record in records:
        position = record.change_position()
        if window.since is not None and position[0] < window.since:
            continue
        if window.after is not None and not _after(position, window.after):
            continue
        chosen.append((position, record))
    chosen.sort(key=lambda pair: _sort_key(pair[0]))
    return [record for _, record in chosen[: window.limit]]


def _sort_key(position: tuple[SageStamp, tuple[str | int, ...]]) -> tuple[int, tuple[str | int, ...]]:
    return position[0].ordinal, position[1]


def _after(position: tuple[SageStamp, tuple[str | int, ...]], after: tuple[SageStamp, tuple[str | int, ...]]) -> bool:
    return _sort_key(position) > _sort_key(after)
