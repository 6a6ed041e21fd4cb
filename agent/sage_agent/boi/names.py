"""Every Sage 100 object, task, table and column name the BOI backend uses, in one place.

Column names follow ProvideX: string columns carry the ``$`` suffix (``VendorNo$``), numeric ones do not
(``Balance``). Keys of a browse filter are the key columns concatenated, each padded to its width.
Verify these against the File Layouts of the customer's Sage 100 version before a first run.
"""

from __future__ import annotations

from dataclasses import dataclass

SCRIPT_PROG_ID = "ProvideX.Script"
SESSION_CLASS = "SY_Session"
AP_MODULE = "A/P"


@dataclass(frozen=True)
class BoiObject:
    """A business object and the task whose security it runs under."""

    name: str
    task: str


VENDORS = BoiObject("AP_Vendor_svc", "AP_Vendor_ui")
DIVISIONS = BoiObject("AP_Division_svc", "AP_Division_ui")
GL_ACCOUNTS = BoiObject("GL_Account_svc", "GL_Account_ui")
GL_SEGMENTS = BoiObject("GL_Segment_svc", "GL_Account_ui")
GL_SUBACCOUNTS = BoiObject("GL_SubAccount_svc", "GL_SubAccount_ui")
BANK_CODES = BoiObject("GL_BankCode_svc", "GL_BankCode_ui")
COMPANY = BoiObject("SY_Company_svc", "AP_Vendor_ui")
OPEN_INVOICES = BoiObject("AP_OpenInvoice_svc", "AP_Vendor_ui")
INVOICE_HEADERS = BoiObject("AP_InvoiceHistoryHeader_svc", "AP_InvoiceHistoryInquiry_ui")
INVOICE_LINES = BoiObject("AP_InvoiceHistoryDetail_svc", "AP_InvoiceHistoryInquiry_ui")
MANUAL_CHECK = BoiObject("AP_ManualCheck_bus", "AP_ManualCheck_ui")
MANUAL_CHECK_HEADERS = BoiObject("AP_ManualCheckHeader_svc", "AP_ManualCheck_ui")
MANUAL_CHECK_LINES = BoiObject("AP_ManualCheckDetail_svc", "AP_ManualCheck_ui")
CHECK_HISTORY_HEADERS = BoiObject("AP_CheckHistoryHeader_svc", "AP_CheckHistoryInquiry_ui")
CHECK_HISTORY_LINES = BoiObject("AP_CheckHistoryDetail_svc", "AP_CheckHistoryInquiry_ui")
CHECK_REGISTER = BoiObject("AP_ManualCheckRegister_upd", "AP_ManualCheckRegister_upd")

ALL_OBJECTS = (
    VENDORS,
    DIVISIONS,
    GL_ACCOUNTS,
    GL_SEGMENTS,
    GL_SUBACCOUNTS,
    BANK_CODES,
    COMPANY,
    OPEN_INVOICES,
    INVOICE_HEADERS,
    INVOICE_LINES,
    MANUAL_CHECK,
    MANUAL_CHECK_HEADERS,
    MANUAL_CHECK_LINES,
    CHECK_HISTORY_HEADERS,
    CHECK_HISTORY_LINES,
    CHECK_REGISTER,
)

KEY_WIDTHS = {"APDivisionNo$": 2, "VendorNo$": 7, "InvoiceNo$": 10, "HeaderSeqNo$": 6, "BankCode$": 1, "CheckNo$": 10}

VENDOR_KEY = ("APDivisionNo$", "VendorNo$")
GL_ACCOUNT_KEY = ("AccountKey$",)
SUBACCOUNT_KEY = ("SegmentNo", "SubAccountCode$")
INVOICE_KEY = ("APDivisionNo$", "VendorNo$", "InvoiceNo$", "HeaderSeqNo$")
CHECK_KEY = ("BankCode$", "CheckNo$")
STAMP_COLUMNS = ("DateUpdated$", "TimeUpdated$")

PAYMENT_TYPES = {"check": "C", "ach": "A", "virtual_card": "V"}
"""``PaymentMethod`` of the contract -> the manual check's ``PaymentType$``."""


def column(field: str, *, numeric: bool = False) -> str:
    """A contract field name as a ProvideX column (``VendorNo`` -> ``VendorNo$``; numbers keep their name)."""
    return field if numeric else f"{field}$"


def field_name(column_name: str) -> str:
    """A ProvideX column as the contract's field name (``VendorNo$`` -> ``VendorNo``)."""
    return column_name.removesuffix("$")


def key_prefix(values: dict[str, str]) -> str:
    """A browse filter: key column values concatenated, each padded to its key width."""
    return "".join(value.ljust(KEY_WIDTHS[name]) for name, value in values.items())
