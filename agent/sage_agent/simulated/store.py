"""``SimulatedBackend``: one Sage 100 company in SQLite, with the rules and write behaviour of the real thing.

Beyond the ``SageBackend`` protocol it offers the writes a Sage user makes (vendors, GL accounts and
segment values, open invoices and their lines and images) and record locks, for tests and the demo.
Every write runs in one ``BEGIN IMMEDIATE`` transaction and stamps ``DateUpdated``/``TimeUpdated``.
Stamps are strictly increasing per company (never two writes with one stamp, never backwards even when a
test clock stands still), so a change feed paged by (stamp, key) neither skips nor repeats a version.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sage_agent.backend import (
    IMAGE_CONTENT_TYPES,
    AlreadyExists,
    BackendFailure,
    Busy,
    ChangeWindow,
    FieldProblem,
    InvoiceFilter,
    InvoiceImage,
    RecordLocked,
    WriteRefused,
)
from sage_agent.images import ImageSource, invoice_ref
from sage_agent.records import (
    CompanyInfo,
    GLAccount,
    GLSegment,
    InvoiceHeaderFields,
    ManualCheck,
    ManualCheckResult,
    OpenInvoice,
    RecordedManualCheck,
    SegmentValue,
    Vendor,
    VendorFields,
    field_problems,
)
from sage_agent.sage_time import Clock, SageStamp, format_sage_date, parse_sage_date
from sage_agent.simulated.check_rules import apply_to_invoices, check_period, manual_check_problems
from sage_agent.simulated.rows import (
    INSERT_INVOICE,
    INVOICE_HEADER_COLUMNS,
    INVOICE_KEY,
    INVOICE_SELECT,
    UPDATE_INVOICE_HEADER,
    VENDOR_COLUMNS,
    cents,
    gl_account_from_row,
    open_invoices_from_rows,
    read_manual_check,
    segment_value_from_row,
    sha256_hex,
    vendor_from_row,
)
from sage_agent.simulated.schema import connect, create_schema

SIMULATED_SAGE_VERSION = "Sage 100 Advanced 2024 (simulated)"
VENDOR_TABLE = "AP_Vendor"
INVOICE_TABLE = "AP_OpenInvoice"
GL_ACCOUNT_TABLE = "GL_Account"
SEGMENT_VALUE_TABLE = "GL_SubAccount"
IMAGE_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Distribution:
    """One GL distribution line of a new or changed invoice."""

    account_key: str
    amount: Decimal
    comment: str = ""


def _refusal(record: str, error: ValidationError) -> WriteRefused:
    problems = [FieldProblem(name, message) for name, message in field_problems(error.errors())]
    details = "; ".join(f"{p.field}: {p.message}" for p in problems)
    return WriteRefused(f"{record} refused: {details}", problems)


class SimulatedBackend:
    """A simulated Sage 100 company backed by one SQLite file (created with its schema when missing)."""

    def __init__(
        self,
        db_path: Path,
        *,
        clock: Clock,
        check_date_window_months: int = 1,
        lock_retry_after: int = 2,
        busy_timeout: float = 5.0,
        images: ImageSource | None = None,
    ) -> None:
        """``busy_timeout``: how long a call waits for another writer before answering ``Busy``.

        ``images``: scanned invoices kept as files, consulted when the company database holds no image.
        """
        self.db_path = db_path
        self._images = images
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._check_date_window_months = check_date_window_months
        self._lock_retry_after = lock_retry_after
        self._locks: dict[tuple[str, ...], int] = {}
        self._locks_guard = threading.Lock()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with closing(connect(str(db_path))) as conn:
            create_schema(conn)

    # ---- connections and transactions -------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._sqlite_errors(), closing(connect(str(self.db_path), timeout=self._busy_timeout)) as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._sqlite_errors(), closing(connect(str(self.db_path), timeout=self._busy_timeout)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _sqlite_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise Busy(f"company database {self.db_path.name} is busy: {error}; retry shortly") from error
            raise BackendFailure(f"company database {self.db_path.name}: {error}") from error
        except sqlite3.Error as error:
            raise BackendFailure(f"company database {self.db_path.name}: {error}") from error

    def _meta(self, conn: sqlite3.Connection, name: str, default: str = "") -> str:
        row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return str(row["value"]) if row else default

    def _set_meta(self, conn: sqlite3.Connection, name: str, value: str) -> None:
        conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    def _stamp(self, conn: sqlite3.Connection) -> SageStamp:
        now = SageStamp.at(self._clock.now())
        last = SageStamp.from_ordinal(int(self._meta(conn, "last_stamp", "0")))
        stamp = now if now > last else last.successor()
        self._set_meta(conn, "last_stamp", str(stamp.ordinal))
        return stamp

    # ---- locks (another Sage user holding a record) ------------------------------------------------

    def lock_record(self, table: str, *key: str, retry_after: int | None = None) -> None:
        """Hold a record as another Sage user would; writes to it answer ``RecordLocked`` until released."""
        with self._locks_guard:
            self._locks[(table, *key)] = self._lock_retry_after if retry_after is None else retry_after

    def unlock_record(self, table: str, *key: str) -> None:
        with self._locks_guard:
            self._locks.pop((table, *key), None)

    @contextmanager
    def locked(self, table: str, *key: str, retry_after: int | None = None) -> Iterator[None]:
        self.lock_record(table, *key, retry_after=retry_after)
        try:
            yield
        finally:
            self.unlock_record(table, *key)

    def _ensure_unlocked(self, table: str, *key: str) -> None:
        with self._locks_guard:
            retry_after = self._locks.get((table, *key))
        if retry_after is not None:
            raise RecordLocked(f"Record/file busy: {table} {' '.join(key)}", retry_after)

    # ---- SageBackend: company ----------------------------------------------------------------------

    @property
    def sage_version(self) -> str:
        return SIMULATED_SAGE_VERSION

    @property
    def company_code(self) -> str:
        with self._read() as conn:
            return self._meta(conn, "company_code")

    def ap_module_date(self) -> dt.date:
        """The AP module date: pinned with ``set_ap_module_date``, else today on the agent clock (Sage's default)."""
        with self._read() as conn:
            pinned = self._meta(conn, "ap_module_date")
        return parse_sage_date(pinned) if pinned else self._clock.now().date()

    def company_info(self) -> CompanyInfo:
        with self._read() as conn:
            banks = [row["BankCode"] for row in conn.execute("SELECT BankCode FROM bank_codes ORDER BY 1")]
            divisions = conn.execute("SELECT COUNT(*) FROM ap_divisions").fetchone()[0]
            code = self._meta(conn, "company_code")
            name = self._meta(conn, "company_name")
        return CompanyInfo(
            CompanyCode=code,
            CompanyName=name,
            APDivisionsEnabled=divisions > 1,
            APModuleDate=format_sage_date(self.ap_module_date()),
            BankCodes=banks,
        )

    def gl_segments(self) -> list[GLSegment]:
        with self._read() as conn:
            rows = conn.execute("SELECT SegmentNo, SegmentName, Length FROM gl_segments ORDER BY SegmentNo")
            return [GLSegment(**dict(row)) for row in rows]

    # ---- SageBackend: change feeds -----------------------------------------------------------------

    def _browse(
        self,
        conn: sqlite3.Connection,
        select: str,
        key_columns: Sequence[str],
        window: ChangeWindow,
        where: Sequence[str] = (),
        params: Sequence[object] = (),
    ) -> list[sqlite3.Row]:
        clauses, args = list(where), list(params)
        if window.since is not None:
            clauses.append("updated_stamp >= ?")
            args.append(window.since.ordinal)
        if window.after is not None:
            stamp, key = window.after
            if len(key) != len(key_columns):
                raise ValueError(f"continuation key {key!r} does not fit {key_columns}")
            columns = ", ".join(("updated_stamp", *key_columns))
            marks = ", ".join("?" * (len(key) + 1))
            clauses.append(f"({columns}) > ({marks})")
            args += [stamp.ordinal, *key]
        condition = " AND ".join(clauses) or "1"
        order = ", ".join(("updated_stamp", *key_columns))
        sql = f"{select} WHERE {condition} ORDER BY {order} LIMIT ?"
        return conn.execute(sql, [*args, window.limit]).fetchall()

    def browse_vendors(self, window: ChangeWindow) -> list[Vendor]:
        with self._read() as conn:
            rows = self._browse(conn, "SELECT * FROM vendors", ("APDivisionNo", "VendorNo"), window)
        return [vendor_from_row(row) for row in rows]

    def browse_gl_accounts(self, window: ChangeWindow) -> list[GLAccount]:
        with self._read() as conn:
            rows = self._browse(conn, "SELECT * FROM gl_accounts", ("AccountKey",), window)
        return [gl_account_from_row(row) for row in rows]

    def browse_segment_values(self, window: ChangeWindow, segment_no: int | None) -> list[SegmentValue]:
        where, params = (["SegmentNo = ?"], [segment_no]) if segment_no is not None else ([], [])
        with self._read() as conn:
            rows = self._browse(
                conn, "SELECT * FROM gl_subaccounts", ("SegmentNo", "SubAccountCode"), window, where, params
            )
        return [segment_value_from_row(row) for row in rows]

    def browse_open_invoices(self, window: ChangeWindow, invoice_filter: InvoiceFilter) -> list[OpenInvoice]:
        where: list[str] = ["Balance != 0"]
        params: list[object] = []
        if invoice_filter.invoice_date_from is not None:
            where.append("InvoiceDate >= ?")
            params.append(format_sage_date(invoice_filter.invoice_date_from))
        if invoice_filter.division is not None:
            where.append("APDivisionNo = ?")
            params.append(invoice_filter.division)
        with self._read() as conn:
            rows = self._browse(conn, INVOICE_SELECT, INVOICE_KEY, window, where, params)
            return self._with_file_images(open_invoices_from_rows(conn, rows))

    # ---- SageBackend: keyed reads ------------------------------------------------------------------

    def read_vendor(self, division: str, vendor_no: str) -> Vendor | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM vendors WHERE APDivisionNo = ? AND VendorNo = ?", (division, vendor_no)
            ).fetchone()
        return vendor_from_row(row) if row else None

    def read_gl_account(self, account_key: str) -> GLAccount | None:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM gl_accounts WHERE AccountKey = ?", (account_key,)).fetchone()
        return gl_account_from_row(row) if row else None

    def read_segment_value(self, segment_no: int, code: str) -> SegmentValue | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM gl_subaccounts WHERE SegmentNo = ? AND SubAccountCode = ?", (segment_no, code)
            ).fetchone()
        return segment_value_from_row(row) if row else None

    def read_open_invoice(self, division: str, vendor_no: str, invoice_no: str) -> OpenInvoice | None:
        with self._read() as conn:
            rows = conn.execute(
                f"{INVOICE_SELECT} WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ? AND Balance != 0",
                (division, vendor_no, invoice_no),
            ).fetchall()
            invoices = self._with_file_images(open_invoices_from_rows(conn, rows))
        return invoices[0] if invoices else None

    def read_invoice_image(self, division: str, vendor_no: str, invoice_no: str) -> InvoiceImage | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT m.rowid AS id, m.ContentType, m.Sha256, m.Size FROM invoice_images m "
                "JOIN invoices i USING (APDivisionNo, VendorNo, InvoiceNo) "
                "WHERE m.APDivisionNo = ? AND m.VendorNo = ? AND m.InvoiceNo = ? AND i.Balance != 0",
                (division, vendor_no, invoice_no),
            ).fetchone()
        if row is None:
            invoice = self.read_open_invoice(division, vendor_no, invoice_no) if self._images else None
            return self._images.image(invoice_ref(invoice)) if self._images and invoice else None
        rowid = int(row["id"])

        def chunks() -> Iterator[bytes]:
            with self._read() as conn, conn.blobopen("invoice_images", "Data", rowid, readonly=True) as blob:
                while chunk := blob.read(IMAGE_CHUNK_BYTES):
                    yield chunk

        return InvoiceImage(str(row["ContentType"]), int(row["Size"]), str(row["Sha256"]), chunks)

    def read_manual_check(self, bank_code: str, check_no: str) -> RecordedManualCheck | None:
        with self._read() as conn:
            return read_manual_check(conn, bank_code, check_no)

    # ---- SageBackend: manual checks ----------------------------------------------------------------

    def record_manual_check(self, check: ManualCheck, *, post: bool) -> ManualCheckResult:
        label = f"manual check {check.BankCode}/{check.CheckNo} for vendor {check.APDivisionNo}-{check.VendorNo}"
        with self._write() as conn:
            existing = read_manual_check(conn, check.BankCode, check.CheckNo)
            if existing is not None:
                raise AlreadyExists(existing)
            problems = manual_check_problems(
                conn, check, company=self._meta(conn, "company_code"), period=self.check_period()
            )
            if problems:
                details = "; ".join(f"{p.field}: {p.message}" for p in problems)
                raise WriteRefused(f"{label} refused: {details}", problems)
            self._ensure_unlocked(VENDOR_TABLE, check.APDivisionNo, check.VendorNo)
            for line in check.Lines:
                self._ensure_unlocked(INVOICE_TABLE, check.APDivisionNo, check.VendorNo, line.InvoiceNo)
            stamp = self._stamp(conn)
            batch_no = int(self._meta(conn, "next_batch_no", "1"))
            self._set_meta(conn, "next_batch_no", str(batch_no + 1))
            check_amt = sum((line.AmountPaid for line in check.Lines), Decimal("0.00"))
            conn.execute(
                "INSERT INTO manual_checks (BankCode, CheckNo, CheckDate, APDivisionNo, VendorNo, PaymentMethod,"
                " Reference, Comment, BatchNo, Posted, CheckAmt, updated_stamp)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    check.BankCode,
                    check.CheckNo,
                    format_sage_date(check.CheckDate),
                    check.APDivisionNo,
                    check.VendorNo,
                    check.PaymentMethod.value,
                    check.Reference,
                    check.Comment,
                    f"{batch_no:05d}",
                    int(post),
                    cents(check_amt),
                    stamp.ordinal,
                ),
            )
            conn.executemany(
                "INSERT INTO manual_check_lines (BankCode, CheckNo, LineNo, InvoiceNo, HeaderSeqNo, AmountPaid,"
                " DiscountAmt) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        check.BankCode,
                        check.CheckNo,
                        number,
                        line.InvoiceNo,
                        line.HeaderSeqNo,
                        cents(line.AmountPaid),
                        cents(line.DiscountAmt),
                    )
                    for number, line in enumerate(check.Lines, start=1)
                ],
            )
            if post:
                apply_to_invoices(conn, check.APDivisionNo, check.VendorNo, check.Lines, stamp)
        return ManualCheckResult(
            BankCode=check.BankCode, CheckNo=check.CheckNo, BatchNo=f"{batch_no:05d}", Posted=post, CheckAmt=check_amt
        )

    def post_manual_checks(self) -> int:
        """Run the manual check register update: post every unposted check. Returns how many it posted."""
        with self._write() as conn:
            keys = conn.execute("SELECT BankCode, CheckNo FROM manual_checks WHERE Posted = 0").fetchall()
            if not keys:
                return 0
            stamp = self._stamp(conn)
            for key in keys:
                check = read_manual_check(conn, key["BankCode"], key["CheckNo"])
                assert check is not None
                apply_to_invoices(conn, check.APDivisionNo, check.VendorNo, check.Lines, stamp)
                conn.execute(
                    "UPDATE manual_checks SET Posted = 1, updated_stamp = ? WHERE BankCode = ? AND CheckNo = ?",
                    (stamp.ordinal, check.BankCode, check.CheckNo),
                )
        return len(keys)

    def check_period(self) -> tuple[dt.date, dt.date]:
        """The AP period a check date must fall in: the AP module date's month +/- the configured window."""
        return check_period(self.ap_module_date(), self._check_date_window_months)

    # ---- writes a Sage user makes (Python API for tests and the demo) -------------------------------

    def create_vendor(self, fields: VendorFields) -> Vendor:
        self._ensure_unlocked(VENDOR_TABLE, fields.APDivisionNo, fields.VendorNo)
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM ap_divisions WHERE APDivisionNo = ?", (fields.APDivisionNo,)).fetchone():
                raise WriteRefused(
                    f"vendor {fields.APDivisionNo}-{fields.VendorNo} refused: AP division "
                    f"{fields.APDivisionNo} does not exist",
                    [FieldProblem("APDivisionNo", f"AP division {fields.APDivisionNo} does not exist")],
                )
            stamp = self._stamp(conn)
            values = fields.model_dump()
            columns = ", ".join((*VENDOR_COLUMNS, "created_stamp", "updated_stamp"))
            try:
                conn.execute(
                    f"INSERT INTO vendors ({columns}) VALUES ({', '.join('?' * (len(VENDOR_COLUMNS) + 2))})",  # noqa: S608 - fixed column names
                    [*(values[c] for c in VENDOR_COLUMNS), stamp.ordinal, stamp.ordinal],
                )
            except sqlite3.IntegrityError:
                raise WriteRefused(
                    f"vendor {fields.APDivisionNo}-{fields.VendorNo} already exists",
                    [FieldProblem("VendorNo", "already exists")],
                ) from None
        vendor = self.read_vendor(fields.APDivisionNo, fields.VendorNo)
        assert vendor is not None
        return vendor

    def update_vendor(self, division: str, vendor_no: str, **changes: str) -> Vendor:
        """Change vendor columns (e.g. ``VendorName``, ``VendorStatus``, ``HoldPayment``) with Sage's rules."""
        label = f"vendor {division}-{vendor_no}"
        self._ensure_unlocked(VENDOR_TABLE, division, vendor_no)
        with self._write() as conn:
            row = conn.execute(
                "SELECT * FROM vendors WHERE APDivisionNo = ? AND VendorNo = ?", (division, vendor_no)
            ).fetchone()
            if row is None:
                raise WriteRefused(f"{label} does not exist", [FieldProblem("VendorNo", "does not exist")])
            merged = {c: row[c] for c in VENDOR_COLUMNS} | changes
            if (merged["APDivisionNo"], merged["VendorNo"]) != (division, vendor_no):
                raise WriteRefused(f"{label}: the key cannot change", [FieldProblem("VendorNo", "key field")])
            try:
                fields = VendorFields(**merged)
            except ValidationError as error:
                raise _refusal(label, error) from None
            stamp = self._stamp(conn)
            assignments = ", ".join(f"{c} = ?" for c in VENDOR_COLUMNS)
            conn.execute(
                f"UPDATE vendors SET {assignments}, updated_stamp = ? WHERE APDivisionNo = ? AND VendorNo = ?",  # noqa: S608 - fixed column names
                [*(fields.model_dump()[c] for c in VENDOR_COLUMNS), stamp.ordinal, division, vendor_no],
            )
        vendor = self.read_vendor(division, vendor_no)
        assert vendor is not None
        return vendor

    def create_gl_account(self, account: str, description: str, *, account_type: str = "05") -> GLAccount:
        """Add a GL account from its formatted number (``6100-02-300``); its segment values must exist."""
        parts = account.split("-")
        with self._write() as conn:
            lengths = [int(r["Length"]) for r in conn.execute("SELECT Length FROM gl_segments ORDER BY SegmentNo")]
            if [len(p) for p in parts] != lengths:
                raise WriteRefused(
                    f"GL account {account} refused: segments must have lengths {lengths}",
                    [FieldProblem("Account", f"segments must have lengths {lengths}")],
                )
            for number, code in enumerate(parts, start=1):
                if not conn.execute(
                    "SELECT 1 FROM gl_subaccounts WHERE SegmentNo = ? AND SubAccountCode = ?", (number, code)
                ).fetchone():
                    raise WriteRefused(
                        f"GL account {account} refused: segment {number} value {code} does not exist",
                        [FieldProblem("Account", f"segment {number} value {code} does not exist")],
                    )
            try:
                record = GLAccount(
                    AccountKey="".join(parts),
                    Account=account,
                    AccountDesc=description,
                    MainAccountCode=parts[0],
                    AccountType=account_type,
                    Status="A",
                    Segments=[],
                    DateUpdated="20000101",
                    TimeUpdated="0.00000",
                )
            except ValidationError as error:
                raise _refusal(f"GL account {account}", error) from None
            stamp = self._stamp(conn)
            try:
                conn.execute(
                    "INSERT INTO gl_accounts (AccountKey, Account, AccountDesc, MainAccountCode, AccountType, Status,"
                    " updated_stamp) VALUES (?, ?, ?, ?, ?, 'A', ?)",
                    (record.AccountKey, account, description, parts[0], account_type, stamp.ordinal),
                )
            except sqlite3.IntegrityError:
                raise WriteRefused(
                    f"GL account {account} already exists", [FieldProblem("Account", "already exists")]
                ) from None
        created = self.read_gl_account(record.AccountKey)
        assert created is not None
        return created

    def set_gl_account_status(self, account_key: str, status: str) -> GLAccount:
        self._set_status("gl_accounts", GL_ACCOUNT_TABLE, ("AccountKey",), (account_key,), status)
        account = self.read_gl_account(account_key)
        assert account is not None
        return account

    def create_segment_value(self, segment_no: int, code: str, description: str) -> None:
        with self._write() as conn:
            length = conn.execute("SELECT Length FROM gl_segments WHERE SegmentNo = ?", (segment_no,)).fetchone()
            if length is None or len(code) != int(length["Length"]) or len(description) > 40:
                raise WriteRefused(
                    f"segment {segment_no} value {code} refused: segment must exist, code must match its "
                    "length and the description fit 40 characters",
                    [FieldProblem("SubAccountCode", "does not fit the segment")],
                )
            stamp = self._stamp(conn)
            try:
                conn.execute(
                    "INSERT INTO gl_subaccounts (SegmentNo, SubAccountCode, SubAccountDesc, Status, updated_stamp)"
                    " VALUES (?, ?, ?, 'A', ?)",
                    (segment_no, code, description, stamp.ordinal),
                )
            except sqlite3.IntegrityError:
                raise WriteRefused(
                    f"segment {segment_no} value {code} already exists",
                    [FieldProblem("SubAccountCode", "already exists")],
                ) from None

    def set_segment_value_status(self, segment_no: int, code: str, status: str) -> None:
        self._set_status(
            "gl_subaccounts", SEGMENT_VALUE_TABLE, ("SegmentNo", "SubAccountCode"), (segment_no, code), status
        )

    def _set_status(
        self, table: str, sage_table: str, key_columns: tuple[str, ...], key: tuple[Any, ...], status: str
    ) -> None:
        label = f"{sage_table} {' '.join(map(str, key))}"
        if status not in ("A", "I", "D"):
            raise WriteRefused(f"{label}: status must be A, I or D", [FieldProblem("Status", "must be A, I or D")])
        self._ensure_unlocked(sage_table, *map(str, key))
        where = " AND ".join(f"{c} = ?" for c in key_columns)
        with self._write() as conn:
            stamp = self._stamp(conn)
            sql = f"UPDATE {table} SET Status = ?, updated_stamp = ? WHERE {where}"  # noqa: S608 - fixed names
            cursor = conn.execute(sql, (status, stamp.ordinal, *key))
            if cursor.rowcount == 0:
                raise WriteRefused(f"{label} does not exist", [FieldProblem(key_columns[-1], "does not exist")])

    def create_invoice(self, header: InvoiceHeaderFields, lines: Sequence[Distribution]) -> OpenInvoice:
        """Enter and post an AP invoice (a negative total is a credit memo). ``InvoiceAmt`` = sum of lines."""
        label = f"invoice {header.APDivisionNo}-{header.VendorNo}/{header.InvoiceNo}"
        with self._write() as conn:
            self._check_invoice_refs(conn, label, header, lines)
            stamp = self._stamp(conn)
            total = sum(cents(line.amount) for line in lines)
            values = header.model_dump()
            try:
                conn.execute(
                    INSERT_INVOICE,
                    [*(values[c] for c in INVOICE_HEADER_COLUMNS), total, total, stamp.ordinal],
                )
            except sqlite3.IntegrityError:
                raise WriteRefused(f"{label} already exists", [FieldProblem("InvoiceNo", "already exists")]) from None
            self._insert_lines(conn, header.APDivisionNo, header.VendorNo, header.InvoiceNo, lines)
        return self._require_invoice(header.APDivisionNo, header.VendorNo, header.InvoiceNo)

    def update_invoice(self, division: str, vendor_no: str, invoice_no: str, **changes: str) -> OpenInvoice:
        """Change header columns (``Comment``, ``HoldPayment``, ``InvoiceDueDate``...), not the key."""
        label = f"invoice {division}-{vendor_no}/{invoice_no}"
        self._ensure_unlocked(INVOICE_TABLE, division, vendor_no, invoice_no)
        with self._write() as conn:
            row = self._invoice_row(conn, label, division, vendor_no, invoice_no)
            merged = {c: row[c] for c in INVOICE_HEADER_COLUMNS} | changes
            if (merged["APDivisionNo"], merged["VendorNo"], merged["InvoiceNo"]) != (division, vendor_no, invoice_no):
                raise WriteRefused(f"{label}: the key cannot change", [FieldProblem("InvoiceNo", "key field")])
            try:
                header = InvoiceHeaderFields(**merged)
            except ValidationError as error:
                raise _refusal(label, error) from None
            stamp = self._stamp(conn)
            conn.execute(
                UPDATE_INVOICE_HEADER,
                [
                    *(header.model_dump()[c] for c in INVOICE_HEADER_COLUMNS),
                    stamp.ordinal,
                    division,
                    vendor_no,
                    invoice_no,
                ],
            )
        return self._require_invoice(division, vendor_no, invoice_no)

    def replace_invoice_lines(
        self, division: str, vendor_no: str, invoice_no: str, lines: Sequence[Distribution]
    ) -> OpenInvoice:
        """New distribution; ``InvoiceAmt`` becomes their sum and ``Balance`` keeps what was already paid off."""
        label = f"invoice {division}-{vendor_no}/{invoice_no}"
        self._ensure_unlocked(INVOICE_TABLE, division, vendor_no, invoice_no)
        with self._write() as conn:
            row = self._invoice_row(conn, label, division, vendor_no, invoice_no)
            header = InvoiceHeaderFields(**{c: row[c] for c in INVOICE_HEADER_COLUMNS})
            self._check_invoice_refs(conn, label, header, lines)
            paid = int(row["InvoiceAmt"]) - int(row["Balance"])
            total = sum(cents(line.amount) for line in lines)
            stamp = self._stamp(conn)
            conn.execute(
                "DELETE FROM invoice_lines WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?",
                (division, vendor_no, invoice_no),
            )
            self._insert_lines(conn, division, vendor_no, invoice_no, lines)
            conn.execute(
                "UPDATE invoices SET InvoiceAmt = ?, Balance = ?, updated_stamp = ?"
                " WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?",
                (total, total - paid, stamp.ordinal, division, vendor_no, invoice_no),
            )
        return self._require_invoice(division, vendor_no, invoice_no)

    def delete_invoice(self, division: str, vendor_no: str, invoice_no: str) -> None:
        label = f"invoice {division}-{vendor_no}/{invoice_no}"
        self._ensure_unlocked(INVOICE_TABLE, division, vendor_no, invoice_no)
        with self._write() as conn:
            self._invoice_row(conn, label, division, vendor_no, invoice_no)
            self._stamp(conn)
            conn.execute(
                "DELETE FROM invoices WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?",
                (division, vendor_no, invoice_no),
            )

    def attach_image(self, division: str, vendor_no: str, invoice_no: str, data: bytes, content_type: str) -> None:
        """Attach or replace the invoice's scanned image (stamps the invoice: ``HasImage`` may change)."""
        label = f"invoice {division}-{vendor_no}/{invoice_no}"
        if content_type not in IMAGE_CONTENT_TYPES:
            raise WriteRefused(
                f"{label}: image type {content_type} is not one of {', '.join(IMAGE_CONTENT_TYPES)}",
                [FieldProblem("ContentType", "unsupported")],
            )
        self._ensure_unlocked(INVOICE_TABLE, division, vendor_no, invoice_no)
        with self._write() as conn:
            self._invoice_row(conn, label, division, vendor_no, invoice_no)
            stamp = self._stamp(conn)
            conn.execute(
                "INSERT OR REPLACE INTO invoice_images (APDivisionNo, VendorNo, InvoiceNo, ContentType, Sha256, Size,"
                " Data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (division, vendor_no, invoice_no, content_type, sha256_hex(data), len(data), data),
            )
            self._touch_invoice(conn, stamp, division, vendor_no, invoice_no)

    def remove_image(self, division: str, vendor_no: str, invoice_no: str) -> None:
        label = f"invoice {division}-{vendor_no}/{invoice_no}"
        self._ensure_unlocked(INVOICE_TABLE, division, vendor_no, invoice_no)
        with self._write() as conn:
            self._invoice_row(conn, label, division, vendor_no, invoice_no)
            stamp = self._stamp(conn)
            conn.execute(
                "DELETE FROM invoice_images WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?",
                (division, vendor_no, invoice_no),
            )
            self._touch_invoice(conn, stamp, division, vendor_no, invoice_no)

    def set_ap_module_date(self, day: dt.date | None) -> None:
        """Pin the AP module date (``None``: follow the agent clock's date, Sage's default)."""
        with self._write() as conn:
            self._set_meta(conn, "ap_module_date", format_sage_date(day) if day else "")

    def open_invoice_keys(self, *, limit: int = 10_000) -> list[tuple[str, str, str]]:
        """Keys of open invoices in key order (a convenience for tests and the demo)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT APDivisionNo, VendorNo, InvoiceNo FROM invoices WHERE Balance != 0 ORDER BY 1, 2, 3 LIMIT ?",
                (limit,),
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    # ---- helpers ------------------------------------------------------------------------------------

    def _with_file_images(self, invoices: list[OpenInvoice]) -> list[OpenInvoice]:
        if self._images is None:
            return invoices
        images = self._images
        return [
            invoice
            if invoice.HasImage or not images.has_image(invoice_ref(invoice))
            else invoice.model_copy(update={"HasImage": True})
            for invoice in invoices
        ]

    def _check_invoice_refs(
        self, conn: sqlite3.Connection, label: str, header: InvoiceHeaderFields, lines: Sequence[Distribution]
    ) -> None:
        problems: list[FieldProblem] = []
        if not conn.execute(
            "SELECT 1 FROM vendors WHERE APDivisionNo = ? AND VendorNo = ?", (header.APDivisionNo, header.VendorNo)
        ).fetchone():
            problems.append(FieldProblem("VendorNo", f"vendor {header.APDivisionNo}-{header.VendorNo} does not exist"))
        if not lines:
            problems.append(FieldProblem("Lines", "an invoice needs at least one distribution line"))
        for index, line in enumerate(lines):
            account = conn.execute(
                "SELECT Status FROM gl_accounts WHERE AccountKey = ?", (line.account_key,)
            ).fetchone()
            if account is None or account["Status"] != "A":
                problems.append(
                    FieldProblem(f"Lines[{index}].AccountKey", f"GL account {line.account_key} is not active")
                )
            if line.amount != line.amount.quantize(Decimal("0.01")) or len(line.comment) > 30:
                problems.append(
                    FieldProblem(f"Lines[{index}]", "amount must have two decimals and comment fit 30 characters")
                )
        if problems:
            raise WriteRefused(f"{label} refused: " + "; ".join(f"{p.field}: {p.message}" for p in problems), problems)

    def _insert_lines(
        self, conn: sqlite3.Connection, division: str, vendor_no: str, invoice_no: str, lines: Sequence[Distribution]
    ) -> None:
        conn.executemany(
            "INSERT INTO invoice_lines (APDivisionNo, VendorNo, InvoiceNo, LineNo, AccountKey, DistributionAmt,"
            " Comment) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (division, vendor_no, invoice_no, number, line.account_key, cents(line.amount), line.comment)
                for number, line in enumerate(lines, start=1)
            ],
        )

    def _invoice_row(
        self, conn: sqlite3.Connection, label: str, division: str, vendor_no: str, invoice_no: str
    ) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM invoices WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?",
            (division, vendor_no, invoice_no),
        ).fetchone()
        if row is None:
            raise WriteRefused(f"{label} does not exist", [FieldProblem("InvoiceNo", "does not exist")])
        return row

    def _touch_invoice(
        self, conn: sqlite3.Connection, stamp: SageStamp, division: str, vendor_no: str, invoice_no: str
    ) -> None:
        conn.execute(
            "UPDATE invoices SET updated_stamp = ? WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?",
            (stamp.ordinal, division, vendor_no, invoice_no),
        )

    def _require_invoice(self, division: str, vendor_no: str, invoice_no: str) -> OpenInvoice:
        invoice = self.read_open_invoice(division, vendor_no, invoice_no)
        if invoice is None:
            raise BackendFailure(f"invoice {division}-{vendor_no}/{invoice_no} vanished after its write")
        return invoice
