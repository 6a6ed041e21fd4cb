"""Everything the simulated AvidXchange holds, in memory, behind one lock.

Tests may read these dicts directly (``state.invoices``, ``state.payments``...); writes go through the
operations in ``vendors``, ``enterprise_codes``, ``invoices`` and ``payments``, which take ``state.lock``.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from avid_sim.clock import SimClock
from avid_sim.models import (
    Company,
    EnterpriseCodeRecord,
    InvoiceRecord,
    PaymentRecord,
    PaymentStatus,
    VendorRecord,
)


@dataclass(frozen=True)
class StatusChangeOnPageRead:
    """A payment that moves to ``status`` as soon as page ``after_page`` of a payments listing has been answered:
    a bank clearing or voiding it while a client pages through the listing."""

    after_page: int
    payment_id: str
    status: PaymentStatus


@dataclass
class Sequences:
    vendor: int = 1000
    enterprise_code: int = 100
    invoice: int = 5000
    payment: int = 7781233
    check: int = 104521
    ach_trace: int = 21000021000000

    def next(self, name: str) -> int:
        value = getattr(self, name) + 1
        setattr(self, name, value)
        return int(value)


@dataclass
class AvidState:
    clock: SimClock = field(default_factory=SimClock)
    company: Company = field(default_factory=lambda: Company(company_id="C-4242", name="Simulated Construction Co"))
    seed: int = 4242
    vendors: dict[str, VendorRecord] = field(default_factory=dict)
    """By ExternalVendorCode."""
    enterprise_codes: dict[tuple[str, str], EnterpriseCodeRecord] = field(default_factory=dict)
    """By (GroupName, CodeValue)."""
    invoices: dict[str, InvoiceRecord] = field(default_factory=dict)
    """By Id, in creation order."""
    payments: dict[str, PaymentRecord] = field(default_factory=dict)
    """By PaymentId, in creation order."""
    payment_page_triggers: list[StatusChangeOnPageRead] = field(default_factory=list)
    """Pending changes armed by ``AvidControls.change_payment_after_page``; each fires once."""
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    sequences: Sequences = field(default_factory=Sequences, repr=False)
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - test data, not security

    def reset(self) -> None:
        """Forget every record (ids keep counting up, so they never repeat within one run)."""
        with self.lock:
            self.vendors.clear()
            self.enterprise_codes.clear()
            self.invoices.clear()
            self.payments.clear()
            self.payment_page_triggers.clear()

    def new_id(self, prefix: str, sequence: str) -> str:
        return f"{prefix}-{self.sequences.next(sequence)}"

    def find_invoices(self, vendor_external_code: str, number: str) -> list[InvoiceRecord]:
        with self.lock:
            return [
                invoice
                for invoice in self.invoices.values()
                if invoice.vendor_external_code == vendor_external_code and invoice.number == number
            ]
