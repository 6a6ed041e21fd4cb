"""Fills a simulated company with realistic data: the demo company, or the same shape at benchmark scale.

Redrock Construction Co. (``RCC``): a regional construction firm with two AP divisions (01 commercial,
02 residential), a three-segment chart of accounts (account-division-cost center), vendors of the trades a
builder pays, open invoices with GL distributions, most with a scanned image. Rows are written in bulk with
``executemany`` so a million invoices take minutes; every value is drawn from a seeded ``random.Random``,
so one shape and seed always give the same company.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import string
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sage_agent.sage_time import SageStamp, format_sage_date
from sage_agent.simulated.images import invoice_image
from sage_agent.simulated.rows import sha256_hex
from sage_agent.simulated.schema import connect, create_schema

DEMO_COMPANY_CODE = "RCC"
DEMO_COMPANY_NAME = "Redrock Construction Co."
DIVISIONS = (("01", "Commercial Construction"), ("02", "Residential Construction"))
BANK_CODES = (("A", "Operating - First Western Bank"), ("B", "Vendor ACH - Canyon State Bank"))
SEGMENTS = ((1, "Account", 4), (2, "Division", 2), (3, "Cost Center", 3))
ACCOUNT_DIVISIONS = (("00", "Corporate"), ("01", "Commercial"), ("02", "Residential"))
COST_CENTERS = (
    ("100", "Administration"),
    ("200", "Estimating"),
    ("300", "Field Operations"),
    ("400", "Equipment Yard"),
    ("500", "Safety & Training"),
)
BALANCE_SHEET_ACCOUNTS = (
    ("1010", "Cash - Operating", "01"),
    ("1020", "Cash - Vendor ACH", "01"),
    ("1400", "Materials Inventory", "01"),
    ("2000", "Accounts Payable", "02"),
    ("2100", "Retainage Payable", "02"),
)
EXPENSE_ACCOUNTS = (
    ("5010", "Materials - Concrete", "05"),
    ("5020", "Materials - Lumber", "05"),
    ("5030", "Materials - Steel & Rebar", "05"),
    ("5040", "Materials - Electrical", "05"),
    ("5050", "Materials - Plumbing", "05"),
    ("5100", "Subcontractor Costs", "05"),
    ("5200", "Equipment Rental", "05"),
    ("5300", "Fuel & Oil", "05"),
    ("5400", "Permits & Fees", "05"),
    ("6100", "Office Supplies", "06"),
    ("6200", "Utilities", "06"),
    ("6300", "Insurance", "06"),
    ("6400", "Professional Fees", "06"),
    ("6500", "Repairs & Maintenance", "06"),
    ("6600", "Small Tools", "06"),
    ("6700", "Safety Supplies", "06"),
    ("6800", "Vehicle Expense", "06"),
)
# (trade name, main expense account, typical invoice size in dollars)
TRADES = (
    ("Concrete Supply", "5010", 9000),
    ("Ready Mix", "5010", 12000),
    ("Lumber & Truss", "5020", 7000),
    ("Steel Fabricators", "5030", 15000),
    ("Rebar Supply", "5030", 6000),
    ("Electric Supply", "5040", 4000),
    ("Plumbing Supply", "5050", 3500),
    ("Drywall Inc", "5100", 11000),
    ("Roofing LLC", "5100", 14000),
    ("Excavating", "5100", 18000),
    ("Masonry", "5100", 9500),
    ("Glass & Glazing", "5100", 8000),
    ("HVAC Mechanical", "5100", 16000),
    ("Paving Co", "5100", 13000),
    ("Equipment Rentals", "5200", 2500),
    ("Crane Service", "5200", 6500),
    ("Fuel Services", "5300", 1800),
    ("Office Products", "6100", 400),
    ("Power & Light", "6200", 900),
    ("Insurance Agency", "6300", 5200),
    ("Engineering Group", "6400", 4800),
    ("Fleet Repair", "6500", 1200),
    ("Tool & Fastener", "6600", 700),
    ("Safety Supply", "6700", 650),
    ("Auto Parts", "6800", 300),
)
FIRST_WORDS = (
    "Acme", "Desert", "Canyon", "Mesa", "Summit", "Pinnacle", "Copper", "Sonoran", "Saguaro", "Granite",
    "Sierra", "Valley", "Frontier", "Pioneer", "Apex", "Cactus", "Coyote", "Mojave", "Butte", "Ironwood",
    "Juniper", "Bluestone", "Highline", "Keystone", "Cornerstone", "Benchmark", "Tri-State", "Western",
    "Southwest", "Silverado", "Agave", "Sundance", "Red Mountain", "Camelback", "Superstition",
)  # fmt: skip
CITIES = (
    ("Phoenix", "AZ", "850"), ("Tempe", "AZ", "852"), ("Mesa", "AZ", "852"), ("Tucson", "AZ", "857"),
    ("Flagstaff", "AZ", "860"), ("Las Vegas", "NV", "891"), ("Henderson", "NV", "890"),
    ("St. George", "UT", "847"), ("Albuquerque", "NM", "871"), ("Chandler", "AZ", "852"),
)  # fmt: skip
STREETS = ("Industrial Way", "W Broadway Rd", "E University Dr", "S 48th St", "N Black Canyon Hwy",
           "W Buckeye Rd", "Commerce Pkwy", "E Valencia Rd", "Sunset Rd", "Quarry Ln")  # fmt: skip
JOBS = ("Mesa Library", "Tempe Medical Office", "Gilbert Elementary", "Chandler Fire Stn 9",
        "Peoria Retail Ctr", "Scottsdale Lofts", "Tucson Warehouse", "Verde Ridge Homes",
        "Saguaro Estates Ph2", "Copper Sky Townhomes")  # fmt: skip
TERMS = (("01", 30, 0.55), ("02", 15, 0.15), ("03", 30, 0.2), ("04", 0, 0.1))  # code, days, share
IMAGE_KINDS = (("pdf", 0.6), ("png", 0.2), ("tiff", 0.2))
BATCH_ROWS = 20_000


@dataclass(frozen=True)
class CompanyShape:
    vendors: int
    invoices: int
    image_share: float
    seed: int = 1988


DEMO_SHAPE = CompanyShape(vendors=120, invoices=420, image_share=0.85)
EMPTY_SHAPE = CompanyShape(vendors=0, invoices=0, image_share=0.0)


@dataclass(frozen=True)
class GenerationReport:
    vendors: int
    invoices: int
    lines: int
    images: int
    seconds: float
    db_bytes: int

    @property
    def rows(self) -> int:
        return self.vendors + self.invoices + self.lines + self.images

    def describe(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0.0
        return (
            f"{self.vendors} vendors, {self.invoices} invoices, {self.lines} distribution lines, "
            f"{self.images} images in {self.seconds:.1f} s ({rate:,.0f} rows/s); "
            f"database {self.db_bytes / 1_048_576:.1f} MiB"
        )


@dataclass(frozen=True)
class _VendorPlan:
    division: str
    vendor_no: str
    name: str
    trade: int
    terms: str
    active: bool


def generate_company(
    db_path: Path,
    shape: CompanyShape,
    now: dt.datetime,
    *,
    company_code: str = DEMO_COMPANY_CODE,
    company_name: str = DEMO_COMPANY_NAME,
    progress: Callable[[str], None] | None = None,
) -> GenerationReport:
    """Create ``db_path`` (which must not hold a company yet) with ``shape``; every stamp lies before ``now``."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    rng = random.Random(shape.seed)  # noqa: S311 - reproducible sample data, not secrets
    with closing(connect(str(db_path))) as conn:
        create_schema(conn)
        if conn.execute("SELECT 1 FROM meta WHERE name = 'company_code'").fetchone():
            raise FileExistsError(f"{db_path} already holds a company; remove it or choose another path")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        stamps = _StampSource(rng, now)
        _write_company(conn, company_code, company_name, stamps)
        vendors = _plan_vendors(rng, shape.vendors)
        _insert(conn, "vendors", _vendor_rows(rng, vendors, stamps))
        say(f"{len(vendors)} vendors written")
        lines = images = 0
        invoice_rows: list[tuple[Any, ...]] = []
        line_rows: list[tuple[Any, ...]] = []
        image_rows: list[tuple[Any, ...]] = []
        for number, invoice in enumerate(_invoices(rng, vendors, shape, now, stamps), start=1):
            header, distribution, image = invoice
            invoice_rows.append(header)
            line_rows += distribution
            if image is not None:
                image_rows.append(image)
            if len(invoice_rows) >= BATCH_ROWS:
                lines, images = lines + len(line_rows), images + len(image_rows)
                _flush(conn, invoice_rows, line_rows, image_rows)
                say(f"{number} invoices written")
        lines, images = lines + len(line_rows), images + len(image_rows)
        _flush(conn, invoice_rows, line_rows, image_rows)
        conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('last_stamp', ?)", (str(stamps.latest),))
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    invoices_made = shape.invoices if vendors else 0
    return GenerationReport(
        vendors=len(vendors),
        invoices=invoices_made,
        lines=lines,
        images=images,
        seconds=time.perf_counter() - started,
        db_bytes=db_path.stat().st_size,
    )


class _StampSource:
    """Random past stamps (all before ``now``), remembering the latest for the company's stamp counter."""

    def __init__(self, rng: random.Random, now: dt.datetime) -> None:
        self._rng = rng
        self._now = now
        self.latest = 0

    def within_days(self, days: int) -> int:
        return self.since(self._now - dt.timedelta(days=days))

    def since(self, start: dt.datetime) -> int:
        """A stamp between ``start`` and a minute before ``now``."""
        span = max(int((self._now - start).total_seconds()), 61)
        moment = self._now - dt.timedelta(seconds=self._rng.randrange(60, span))
        ordinal = SageStamp.at(moment).ordinal
        self.latest = max(self.latest, ordinal)
        return ordinal


def _write_company(conn: sqlite3.Connection, code: str, name: str, stamps: _StampSource) -> None:
    conn.executemany(
        "INSERT INTO meta (name, value) VALUES (?, ?)",
        [("company_code", code), ("company_name", name), ("next_batch_no", "1")],
    )
    conn.executemany("INSERT INTO ap_divisions VALUES (?, ?)", DIVISIONS)
    conn.executemany("INSERT INTO bank_codes VALUES (?, ?)", BANK_CODES)
    conn.executemany("INSERT INTO gl_segments VALUES (?, ?, ?)", SEGMENTS)
    values = [(1, code, desc[:40], "A") for code, desc, _ in (*BALANCE_SHEET_ACCOUNTS, *EXPENSE_ACCOUNTS)]
    values += [(2, code, desc, "A") for code, desc in ACCOUNT_DIVISIONS]
    values += [(3, code, desc, "A") for code, desc in COST_CENTERS]
    values.append((3, "600", "Warranty (retired)", "I"))
    conn.executemany(
        "INSERT INTO gl_subaccounts VALUES (?, ?, ?, ?, ?)", [(*v, stamps.within_days(400)) for v in values]
    )
    accounts = [(main, desc, kind, "00", "100", "Corporate") for main, desc, kind in BALANCE_SHEET_ACCOUNTS]
    accounts += [
        (main, desc, kind, division, center, center_desc)
        for main, desc, kind in EXPENSE_ACCOUNTS
        for division, _ in DIVISIONS
        for center, center_desc in COST_CENTERS
    ]
    conn.executemany(
        "INSERT INTO gl_accounts VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f"{main}{division}{center}",
                f"{main}-{division}-{center}",
                f"{desc} - {center_desc}"[:50],
                main,
                kind,
                "I" if center == "500" and main == "6800" else "A",
                stamps.within_days(400),
            )
            for main, desc, kind, division, center, center_desc in accounts
        ],
    )


def _base36(number: int, width: int) -> str:
    digits = string.digits + string.ascii_uppercase
    text = ""
    while number:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
    return text.rjust(width, "0")


def _pick_terms(rng: random.Random) -> str:
    return rng.choices([t[0] for t in TERMS], weights=[t[2] for t in TERMS])[0]


def _plan_vendors(rng: random.Random, count: int) -> list[_VendorPlan]:
    plans = []
    for index in range(count):
        first = FIRST_WORDS[index % len(FIRST_WORDS)]
        trade = (index * 7 + index // len(FIRST_WORDS)) % len(TRADES)
        name = f"{first} {TRADES[trade][0]}"[:30]
        letters = "".join(ch for ch in first.upper() if ch.isalpha())[:3]
        vendor_no = "ACME" if index == 0 else f"{letters}{_base36(index, 4)}"
        division = "01" if index == 0 or rng.random() < 0.6 else "02"
        status_roll = rng.random()
        plans.append(_VendorPlan(division, vendor_no, name, trade, _pick_terms(rng), status_roll < 0.92))
    return plans


def _vendor_rows(rng: random.Random, vendors: Sequence[_VendorPlan], stamps: _StampSource) -> Iterator[tuple[Any, ...]]:
    for plan in vendors:
        city, state, zip_prefix = rng.choice(CITIES)
        slug = "".join(ch for ch in plan.name.lower() if ch.isalnum())[:24]
        created = stamps.within_days(900)
        updated = max(created, stamps.within_days(200))
        status = "A" if plan.active else rng.choice("IT")
        yield (
            plan.division,
            plan.vendor_no,
            plan.name,
            f"{rng.randint(100, 9899)} {rng.choice(STREETS)}",
            "Suite 100" if rng.random() < 0.2 else "",
            "",
            city,
            state,
            f"{zip_prefix}{rng.randint(0, 99):02d}",
            "USA",
            f"({rng.choice(('602', '480', '520', '702'))}) 555-{rng.randint(0, 9999):04d}",
            f"ap@{slug}.com",
            f"{rng.randint(100_000_000, 999_999_999)}" if rng.random() < 0.8 else "",
            plan.terms,
            status,
            "Y" if rng.random() < 0.04 else "N",
            created,
            updated,
        )


def _invoices(
    rng: random.Random,
    vendors: Sequence[_VendorPlan],
    shape: CompanyShape,
    now: dt.datetime,
    stamps: _StampSource,
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]], tuple[Any, ...] | None]]:
    payable = [plan for plan in vendors if plan.active]
    if not payable:
        return
    next_invoice_no = {plan.vendor_no: rng.randint(1000, 90000) for plan in payable}
    terms_days = {code: days for code, days, _ in TERMS}
    kinds, kind_weights = [k for k, _ in IMAGE_KINDS], [w for _, w in IMAGE_KINDS]
    for index in range(shape.invoices):
        plan = payable[0] if index == 0 else rng.choice(payable)
        trade_name, main, typical = TRADES[plan.trade]
        invoice_no = "10045" if index == 0 else str(next_invoice_no[plan.vendor_no])
        next_invoice_no[plan.vendor_no] += rng.randint(1, 40)
        invoice_date = now.date() - dt.timedelta(days=rng.randint(1, 75))
        due = invoice_date + dt.timedelta(days=terms_days[plan.terms])
        credit = index != 0 and rng.random() < 0.03
        line_count = 1 if credit else rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]
        amounts = [rng.randint(typical * 10, typical * 160) for _ in range(line_count)]
        if credit:
            amounts = [-rng.randint(5000, typical * 30)]
        total = sum(amounts)
        balance = total if credit or rng.random() > 0.1 else total - rng.randint(1, total - 1)
        job = rng.choice(JOBS)
        key = (plan.division, plan.vendor_no, invoice_no)
        header = (
            *key,
            "000000",
            format_sage_date(invoice_date),
            format_sage_date(due),
            plan.terms,
            total,
            balance,
            "Y" if rng.random() < 0.03 else "N",
            (f"Credit - returned material {job}" if credit else f"{trade_name} - {job}")[:40],
            f"PO{rng.randint(10000, 99999)}" if rng.random() < 0.4 else "",
            stamps.since(dt.datetime.combine(invoice_date, dt.time(8))),
        )
        lines = [
            (*key, number, f"{main}{plan.division}{rng.choice(COST_CENTERS[:4])[0]}", amount, job[:30])
            for number, amount in enumerate(amounts, start=1)
        ]
        image = None
        if index == 0 or rng.random() < shape.image_share:
            text = [
                plan.name,
                f"INVOICE {invoice_no}",
                f"Date {invoice_date:%m/%d/%Y}   Due {due:%m/%d/%Y}",
                f"Bill to: {DEMO_COMPANY_NAME}",
                f"Job: {job}",
                f"Amount due: ${total / 100:,.2f}",
            ]
            data, content_type = invoice_image(rng.choices(kinds, kind_weights)[0], invoice_no, text, index)
            image = (*key, content_type, sha256_hex(data), len(data), data)
        yield header, lines, image


def _flush(
    conn: sqlite3.Connection,
    invoices: list[tuple[Any, ...]],
    lines: list[tuple[Any, ...]],
    images: list[tuple[Any, ...]],
) -> None:
    _insert(conn, "invoices", invoices)
    _insert(conn, "invoice_lines", lines)
    _insert(conn, "invoice_images", images)
    invoices.clear()
    lines.clear()
    images.clear()


def _insert(conn: sqlite3.Connection, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            _insert_batch(conn, table, batch)
            batch = []
    _insert_batch(conn, table, batch)


def _insert_batch(conn: sqlite3.Connection, table: str, batch: list[tuple[Any, ...]]) -> None:
    if batch:
        marks = ", ".join("?" * len(batch[0]))
        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)  # noqa: S608 - fixed table names
