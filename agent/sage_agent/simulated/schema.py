"""SQLite schema of a simulated company. Money is integer cents; stamps are ``SageStamp.ordinal`` integers."""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = "1"

DDL = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ap_divisions (APDivisionNo TEXT PRIMARY KEY, Description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bank_codes (BankCode TEXT PRIMARY KEY, Description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vendors (
    APDivisionNo TEXT NOT NULL, VendorNo TEXT NOT NULL, VendorName TEXT NOT NULL,
    AddressLine1 TEXT NOT NULL, AddressLine2 TEXT NOT NULL, AddressLine3 TEXT NOT NULL,
    City TEXT NOT NULL, State TEXT NOT NULL, ZipCode TEXT NOT NULL, CountryCode TEXT NOT NULL,
    TelephoneNo TEXT NOT NULL, EmailAddress TEXT NOT NULL, TaxpayerIDSocialSecurityNo TEXT NOT NULL,
    TermsCode TEXT NOT NULL, VendorStatus TEXT NOT NULL, HoldPayment TEXT NOT NULL,
    created_stamp INTEGER NOT NULL, updated_stamp INTEGER NOT NULL,
    PRIMARY KEY (APDivisionNo, VendorNo)
);
CREATE INDEX IF NOT EXISTS vendors_changes ON vendors (updated_stamp, APDivisionNo, VendorNo);
CREATE TABLE IF NOT EXISTS gl_segments (
    SegmentNo INTEGER PRIMARY KEY, SegmentName TEXT NOT NULL, Length INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS gl_accounts (
    AccountKey TEXT PRIMARY KEY, Account TEXT NOT NULL UNIQUE, AccountDesc TEXT NOT NULL,
    MainAccountCode TEXT NOT NULL, AccountType TEXT NOT NULL, Status TEXT NOT NULL,
    updated_stamp INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS gl_accounts_changes ON gl_accounts (updated_stamp, AccountKey);
CREATE TABLE IF NOT EXISTS gl_subaccounts (
    SegmentNo INTEGER NOT NULL, SubAccountCode TEXT NOT NULL, SubAccountDesc TEXT NOT NULL,
    Status TEXT NOT NULL, updated_stamp INTEGER NOT NULL,
    PRIMARY KEY (SegmentNo, SubAccountCode)
);
CREATE INDEX IF NOT EXISTS gl_subaccounts_changes ON gl_subaccounts (updated_stamp, SegmentNo, SubAccountCode);
CREATE TABLE IF NOT EXISTS invoices (
    APDivisionNo TEXT NOT NULL, VendorNo TEXT NOT NULL, InvoiceNo TEXT NOT NULL, HeaderSeqNo TEXT NOT NULL,
    InvoiceDate TEXT NOT NULL, InvoiceDueDate TEXT NOT NULL, TermsCode TEXT NOT NULL,
    InvoiceAmt INTEGER NOT NULL, Balance INTEGER NOT NULL, HoldPayment TEXT NOT NULL,
    Comment TEXT NOT NULL, PurchaseOrderNo TEXT NOT NULL, updated_stamp INTEGER NOT NULL,
    PRIMARY KEY (APDivisionNo, VendorNo, InvoiceNo),
    FOREIGN KEY (APDivisionNo, VendorNo) REFERENCES vendors (APDivisionNo, VendorNo)
);
CREATE INDEX IF NOT EXISTS invoices_changes ON invoices (updated_stamp, APDivisionNo, VendorNo, InvoiceNo);
CREATE TABLE IF NOT EXISTS invoice_lines (
    APDivisionNo TEXT NOT NULL, VendorNo TEXT NOT NULL, InvoiceNo TEXT NOT NULL, LineNo INTEGER NOT NULL,
    AccountKey TEXT NOT NULL REFERENCES gl_accounts (AccountKey), DistributionAmt INTEGER NOT NULL,
    Comment TEXT NOT NULL,
    PRIMARY KEY (APDivisionNo, VendorNo, InvoiceNo, LineNo),
    FOREIGN KEY (APDivisionNo, VendorNo, InvoiceNo) REFERENCES invoices (APDivisionNo, VendorNo, InvoiceNo)
        ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS invoice_images (
    APDivisionNo TEXT NOT NULL, VendorNo TEXT NOT NULL, InvoiceNo TEXT NOT NULL,
    ContentType TEXT NOT NULL, Sha256 TEXT NOT NULL, Size INTEGER NOT NULL, Data BLOB NOT NULL,
    PRIMARY KEY (APDivisionNo, VendorNo, InvoiceNo),
    FOREIGN KEY (APDivisionNo, VendorNo, InvoiceNo) REFERENCES invoices (APDivisionNo, VendorNo, InvoiceNo)
        ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS manual_checks (
    BankCode TEXT NOT NULL, CheckNo TEXT NOT NULL, CheckDate TEXT NOT NULL,
    APDivisionNo TEXT NOT NULL, VendorNo TEXT NOT NULL, PaymentMethod TEXT NOT NULL,
    Reference TEXT NOT NULL, Comment TEXT NOT NULL, BatchNo TEXT NOT NULL, Posted INTEGER NOT NULL,
    CheckAmt INTEGER NOT NULL, updated_stamp INTEGER NOT NULL,
    PRIMARY KEY (BankCode, CheckNo)
);
CREATE TABLE IF NOT EXISTS manual_check_lines (
    BankCode TEXT NOT NULL, CheckNo TEXT NOT NULL, LineNo INTEGER NOT NULL,
    InvoiceNo TEXT NOT NULL, HeaderSeqNo TEXT NOT NULL, AmountPaid INTEGER NOT NULL, DiscountAmt INTEGER NOT NULL,
    PRIMARY KEY (BankCode, CheckNo, LineNo),
    FOREIGN KEY (BankCode, CheckNo) REFERENCES manual_checks (BankCode, CheckNo) ON DELETE CASCADE
);
"""


def connect(path: str, *, timeout: float = 5.0) -> sqlite3.Connection:
    """A connection in autocommit mode; callers open transactions explicitly (``BEGIN IMMEDIATE`` to write)."""
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(DDL)
    conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
