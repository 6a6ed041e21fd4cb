"""The fake ProvideX COM object model: ``ProvideX.Script``, ``SY_Session``, ``*_svc`` objects,
``AP_ManualCheck_bus`` with its ``oLines``, and ``AP_ManualCheckRegister_upd``.

Same names and conventions as the real one: ``n`` methods return 1 / 0 / -1 with the reason in
``sLastErrorMsg``; ``nGetValue(column, placeholder)`` returns ``(result, value)`` (the by-reference value);
string columns end in ``$`` and numbers come back as doubles; ``nSetKey`` answers 2 for a new key and 1 for
an existing one; writes to records another user holds fail with "Record/file busy".
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

from sage_agent.boi.fake.company import TABLE_KEYS, FakeSageCompany, Key, Row, as_decimal
from sage_agent.boi.names import key_prefix
from sage_agent.sage_time import format_sage_date, parse_sage_date
from sage_agent.simulated.check_rules import check_period

SUCCESS, FAILURE, WARNING = 1, 0, -1


class FakeComError(Exception):
    """What pywintypes.com_error stands for: the COM call itself failed."""


class _Object:
    sLastErrorMsg = ""

    def __init__(self, runtime: FakeComRuntime) -> None:
        self._runtime = runtime

    def _fail(self, message: str, code: int = FAILURE) -> int:
        self.sLastErrorMsg = message
        return code

    def _ok(self) -> int:
        self.sLastErrorMsg = ""
        return SUCCESS

    def __getattribute__(self, name: str) -> Any:
        if name.startswith(("n", "s", "o", "Init", "NewObject", "DropObject")) and not name.startswith("_"):
            object.__getattribute__(self, "_runtime").before_call(name)
        return object.__getattribute__(self, name)

    def DropObject(self) -> None:
        self._runtime.dropped += 1


class FakeScript(_Object):
    def __init__(self, runtime: FakeComRuntime) -> None:
        super().__init__(runtime)
        self.home = ""

    def Init(self, home: str) -> None:
        self.home = home

    def NewObject(self, name: str, session: FakeSession | None = None) -> Any:
        company = self._runtime.company
        if name == "SY_Session":
            return FakeSession(self._runtime)
        if session is None or not session.program:
            raise FakeComError(f"NewObject({name}) needs a session with a program set")
        if name == "AP_ManualCheck_bus":
            return FakeManualCheckBus(self._runtime, session)
        if name == "AP_ManualCheckRegister_upd":
            return FakeRegisterUpdate(self._runtime)
        table = name.removesuffix("_svc")
        if not name.endswith("_svc") or table not in company.tables:
            return None
        return FakeService(self._runtime, table)


class FakeSession(_Object):
    def __init__(self, runtime: FakeComRuntime) -> None:
        super().__init__(runtime)
        self.user = ""
        self.company = ""
        self.module = ""
        self.module_date: dt.date | None = None
        self.program = ""
        runtime.sessions_opened += 1

    def nSetUser(self, user: str, password: str) -> int:
        access = self._runtime.company.access
        if access.users.get(user) != password:
            return self._fail("Invalid user code or password.")
        if user not in access.external_access:
            return self._fail(f"User {user} does not have external access (Allow External Access).")
        self.user = user
        return self._ok()

    def nSetCompany(self, code: str) -> int:
        if not self.user or code != self._runtime.company.code:
            return self._fail(f"Company {code} is not on file or not available to this user.")
        self.company = code
        return self._ok()

    def nSetDate(self, module: str, date: str) -> int:
        self.module_date = parse_sage_date(date)
        return self._ok()

    def nSetModule(self, module: str) -> int:
        if module not in self._runtime.company.access.modules:
            return self._fail(f"Module {module} is not installed or set up for this company.")
        self.module = module
        return self._ok()

    def nLookupTask(self, task: str) -> int | str:
        return f"TASK:{task}" if task.endswith(("_ui", "_upd")) else 0

    def nSetProgram(self, task_id: str) -> int:
        task = str(task_id).removeprefix("TASK:")
        if task in self._runtime.company.access.denied_tasks:
            return self._fail(f"You do not have access to {task}.")
        self.program = task
        return self._ok()

    def nCleanup(self) -> int:
        self._runtime.sessions_cleaned += 1
        return SUCCESS


class _Record(_Object):
    """A record buffer with ``nGetValue``/``nSetValue``."""

    def __init__(self, runtime: FakeComRuntime) -> None:
        super().__init__(runtime)
        self.record: Row = {}

    def nGetValue(self, column: str, placeholder: Any) -> tuple[int, Any]:
        if column not in self.record:
            return self._fail(f"Column {column} is not in this record."), placeholder
        value = self.record[column]
        if column.endswith("$"):
            return self._ok(), str(value)
        return self._ok(), float(value)

    def _set(self, column: str, value: Any) -> None:
        self.record[column] = str(value) if column.endswith("$") else as_decimal(value)


class FakeService(_Record):
    """A ``_svc`` object: keyed reads and browsing, read-only."""

    def __init__(self, runtime: FakeComRuntime, table: str) -> None:
        super().__init__(runtime)
        self._table = table
        self._key_values: dict[str, Any] = {}
        self._prefix = ""
        self._rows: list[Row] = []
        self._position = 0

    @property
    def nEOF(self) -> int:
        return int(self._position >= len(self._rows))

    def nSetKeyValue(self, column: str, value: Any) -> int:
        self._key_values[column] = value
        return self._ok()

    def nFind(self) -> int:
        company = self._runtime.company
        key = tuple(self._key_values.get(c) for c in TABLE_KEYS[self._table])
        row = company.get(self._table, key)
        self._key_values = {}
        if row is None:
            self.record = {}
            return self._fail("")
        self.record = row
        return self._ok()

    def nSetBrowseFilter(self, prefix: str) -> int:
        self._prefix = prefix
        return self._ok()

    def nMoveFirst(self) -> int:
        self._rows = self._runtime.company.rows(self._table, self._prefix)
        self._position = 0
        return self._load()

    def nMoveNext(self) -> int:
        self._position += 1
        return self._load()

    def _load(self) -> int:
        if self._position >= len(self._rows):
            self.record = {}
            return self._fail("End of file")
        self.record = self._rows[self._position]
        return self._ok()


class FakeLines(_Record):
    """``oLines`` of the manual check: lines are validated on ``nWrite`` and kept until the header writes."""

    def __init__(self, runtime: FakeComRuntime, bus: FakeManualCheckBus) -> None:
        super().__init__(runtime)
        self._bus = bus
        self.written: list[Row] = []

    def nAddLine(self) -> int:
        self.record = {"AmountPaid": Decimal(0), "DiscountAmt": Decimal(0)}
        return self._ok()

    def nSetValue(self, column: str, value: Any) -> int:
        company = self._runtime.company
        header = self._bus.record
        if column == "InvoiceNo$":
            if any(line["InvoiceNo$"] == value for line in self.written):
                return self._fail(f"Invoice {value} is already on this check.")
            prefix = key_prefix(
                {
                    "APDivisionNo$": header.get("APDivisionNo$", ""),
                    "VendorNo$": header.get("VendorNo$", ""),
                    "InvoiceNo$": value,
                }
            )
            if not any(r["Balance"] != 0 for r in company.rows("AP_OpenInvoice", prefix)):
                return self._fail(f"Invoice {value} is not on file or not open for this vendor.")
        if column == "HeaderSeqNo$":
            key = (header.get("APDivisionNo$"), header.get("VendorNo$"), self.record.get("InvoiceNo$"), value)
            if company.get("AP_OpenInvoice", key) is None:
                return self._fail(f"Invoice {self.record.get('InvoiceNo$')} sequence {value} is not open.")
        self._set(column, value)
        return self._ok()

    def nWrite(self) -> int:
        company = self._runtime.company
        header = self._bus.record
        line = self.record
        key: Key = (header["APDivisionNo$"], header["VendorNo$"], line["InvoiceNo$"], line["HeaderSeqNo$"])
        invoice = company.get("AP_OpenInvoice", key)
        if invoice is None:
            return self._fail(f"Invoice {line['InvoiceNo$']} is not open.")
        balance = as_decimal(invoice["Balance"])
        pending = sum(
            (
                as_decimal(d["AmountPaid"]) + as_decimal(d["DiscountAmt"])
                for d in company.rows("AP_ManualCheckDetail")
                if (d["APDivisionNo$"], d["VendorNo$"], d["InvoiceNo$"], d["HeaderSeqNo$"]) == key
            ),
            Decimal(0),
        )
        open_balance = balance - pending
        paid, discount = as_decimal(line["AmountPaid"]), as_decimal(line["DiscountAmt"])
        applied = paid + discount
        if balance > 0 and (paid < 0 or discount < 0 or applied == 0):
            return self._fail(f"The amount for invoice {line['InvoiceNo$']} must be positive.")
        if balance > 0 and applied > open_balance:
            return self._fail(f"{applied} exceeds the open balance {open_balance} of invoice {line['InvoiceNo$']}.")
        if balance < 0 and (discount != 0 or not open_balance <= paid < 0):
            return self._fail(f"Credit memo {line['InvoiceNo$']}: apply a negative amount up to {open_balance}.")
        self.written.append(dict(line))
        self.record = {}
        return self._ok()


class FakeManualCheckBus(_Record):
    """``AP_ManualCheck_bus``: header keyed by BankCode$ + CheckNo$, lines through ``oLines``."""

    def __init__(self, runtime: FakeComRuntime, session: FakeSession) -> None:
        super().__init__(runtime)
        self._session = session
        self._key: dict[str, str] = {}
        self.oLines = FakeLines(runtime, self)

    def nSetKeyValue(self, column: str, value: str) -> int:
        self._key[column] = value
        return self._ok()

    def nSetKey(self) -> int:
        company = self._runtime.company
        bank, check_no = self._key.get("BankCode$", ""), self._key.get("CheckNo$", "")
        if company.get("GL_BankCode", (bank,)) is None:
            return self._fail(f"Bank code {bank} is not on file.")
        busy = company.lock_message("AP_ManualCheckHeader", bank, check_no)
        if busy:
            return self._fail(busy)
        existing = company.get("AP_ManualCheckHeader", (bank, check_no))
        if existing is not None:
            self.record = existing
            self.sLastErrorMsg = ""
            return 1
        with company.guard:
            batch = f"{company.next_batch_no:05d}"
            company.next_batch_no += 1
        self.record = {"BankCode$": bank, "CheckNo$": check_no, "BatchNo$": batch}
        self.oLines = FakeLines(self._runtime, self)
        self.sLastErrorMsg = ""
        return 2

    def nSetValue(self, column: str, value: Any) -> int:
        company = self._runtime.company
        if column == "CheckDate$":
            module_date = self._session.module_date or company.clock.now().date()
            day = parse_sage_date(str(value))
            start, end = check_period(module_date, company.check_date_window_months)
            if not start <= day <= end:
                return self._fail(
                    f"Check date {value} is outside the A/P periods {format_sage_date(start)}-{format_sage_date(end)}."
                )
            self._set(column, value)
            if (day.year, day.month) > (module_date.year, module_date.month):
                return self._fail("The check date is in a future period.", WARNING)
            return self._ok()
        if column == "VendorNo$":
            vendor = company.get("AP_Vendor", (self.record.get("APDivisionNo$"), value))
            if vendor is None:
                return self._fail(f"Vendor {self.record.get('APDivisionNo$')}-{value} is not on file.")
            if vendor["VendorStatus$"] == "I":
                return self._fail(f"Vendor {value} is inactive.")
        self._set(column, value)
        return self._ok()

    def nWrite(self) -> int:
        company = self._runtime.company
        header, lines = self.record, self.oLines.written
        if not lines:
            return self._fail("A manual check needs at least one line.")
        if sum(as_decimal(line["AmountPaid"]) for line in lines) < 0:
            return self._fail("The check total cannot be negative.")
        with company.guard:
            division, vendor = header["APDivisionNo$"], header["VendorNo$"]
            held = company.lock_message("AP_Vendor", division, vendor) or next(
                (
                    message
                    for line in lines
                    if (message := company.lock_message("AP_OpenInvoice", division, vendor, line["InvoiceNo$"]))
                ),
                None,
            )
            if held:
                return self._fail(held)
            company.put("AP_ManualCheckHeader", header)
            for number, line in enumerate(lines, start=1):
                company.put(
                    "AP_ManualCheckDetail",
                    line
                    | {
                        "BankCode$": header["BankCode$"],
                        "CheckNo$": header["CheckNo$"],
                        "LineSeqNo$": f"{number:06d}",
                        "APDivisionNo$": division,
                        "VendorNo$": vendor,
                    },
                )
        self._runtime.company_writes += 1
        return self.nClear()

    def nClear(self) -> int:
        self.record = {}
        self._key = {}
        self.oLines = FakeLines(self._runtime, self)
        return self._ok()


class FakeRegisterUpdate(_Object):
    """``AP_ManualCheckRegister_upd``: posts one batch of manual checks to the open invoices."""

    def __init__(self, runtime: FakeComRuntime) -> None:
        super().__init__(runtime)
        self._batch = ""

    def nSelectBatch(self, batch_no: str) -> int:
        self._batch = batch_no
        return self._ok()

    def nUpdate(self) -> int:
        company = self._runtime.company
        with company.guard:
            if company.register_failures:
                return self._fail(company.register_failures.pop(0))
            post_batch(company, self._batch)
        return self._ok()


def post_batch(company: FakeSageCompany, batch_no: str | None) -> int:
    """Post the manual checks of ``batch_no`` (every batch when ``None``); returns how many."""
    with company.guard:
        headers = [h for h in company.rows("AP_ManualCheckHeader") if batch_no in (None, h["BatchNo$"])]
        for header in headers:
            check_key = (header["BankCode$"], header["CheckNo$"])
            company.delete("AP_ManualCheckHeader", check_key)
            company.put("AP_CheckHistoryHeader", header)
            for line in company.rows("AP_ManualCheckDetail"):
                if (line["BankCode$"], line["CheckNo$"]) != check_key:
                    continue
                company.delete("AP_ManualCheckDetail", company.key_of("AP_ManualCheckDetail", line))
                company.put("AP_CheckHistoryDetail", line)
                invoice_key = (line["APDivisionNo$"], line["VendorNo$"], line["InvoiceNo$"], line["HeaderSeqNo$"])
                invoice = company.get("AP_OpenInvoice", invoice_key)
                if invoice is None:
                    continue
                applied = as_decimal(line["AmountPaid"]) + as_decimal(line["DiscountAmt"])
                balance = as_decimal(invoice["Balance"]) - applied
                if balance == 0:
                    company.delete("AP_OpenInvoice", invoice_key)
                else:
                    company.update("AP_OpenInvoice", invoice_key, Balance=balance)
        return len(headers)


class FakeComRuntime:
    """The ``ComRuntime`` of the fake: ``dispatch("ProvideX.Script")`` over one in-memory company."""

    error_types: tuple[type[BaseException], ...] = (FakeComError,)

    def __init__(self, company: FakeSageCompany) -> None:
        self.company = company
        self.initialized_threads: set[int] = set()
        self.uninitialized = 0
        self.sessions_opened = 0
        self.sessions_cleaned = 0
        self.dropped = 0
        self.company_writes = 0
        self._com_failures: list[str] = []
        self._guard = threading.Lock()

    def initialize_thread(self) -> None:
        with self._guard:
            self.initialized_threads.add(threading.get_ident())

    def uninitialize_thread(self) -> None:
        with self._guard:
            self.uninitialized += 1

    def dispatch(self, prog_id: str) -> FakeScript:
        if threading.get_ident() not in self.initialized_threads:
            raise FakeComError("CoInitialize has not been called on this thread")
        if prog_id != "ProvideX.Script":
            raise FakeComError(f"Invalid class string: {prog_id}")
        return FakeScript(self)

    def fail_next_call(self, method: str) -> None:
        """The next call of ``method`` on any fake object raises a COM error (the server went away)."""
        with self._guard:
            self._com_failures.append(method)

    def before_call(self, method: str) -> None:
        with self._guard:
            if method in self._com_failures:
                self._com_failures.remove(method)
                raise FakeComError(f"The RPC server is unavailable ({method})")
