from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from avid_sim.clock import SimClock
from avid_sim.enterprise_codes import upsert_enterprise_code
from avid_sim.invoices import create_invoice, move_invoice
from avid_sim.models import EnterpriseCodeIn, InvoiceStatus, PaymentMethod, VendorIn
from avid_sim.payments import InvoicePayment, create_payment
from avid_sim.persistence import Autosaver, load_state
from avid_sim.state import AvidState
from avid_sim.vendors import upsert_vendor

from .conftest import invoice


def test_a_saved_state_loads_back_equal_and_keeps_counting_ids(tmp_path: Path) -> None:
    clock = SimClock(dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    state = AvidState(clock=clock)
    upsert_vendor(state, VendorIn(external_vendor_code="01-ACME", name="Acme"))
    for group, value in (("Accounting Codes", "6100-02-300"), ("Cost Center", "300")):
        upsert_enterprise_code(state, EnterpriseCodeIn(group_name=group, code_value=value))
    created = create_invoice(state, invoice())
    move_invoice(state, created.id, InvoiceStatus.APPROVED)
    create_payment(state, [InvoicePayment(created.id, Decimal("100.00"))], method=PaymentMethod.VIRTUAL_CARD)
    path = tmp_path / "state.json"
    Autosaver(state, path).start().stop()

    loaded = load_state(path, clock=clock, seed=1)
    assert loaded.vendors == state.vendors
    assert loaded.enterprise_codes == state.enterprise_codes
    assert loaded.invoices == state.invoices
    assert loaded.payments == state.payments
    assert create_invoice(loaded, invoice()).id == "I-5002"


def test_no_file_means_an_empty_state(tmp_path: Path) -> None:
    state = load_state(tmp_path / "state.json", clock=SimClock(), seed=1)
    assert (state.vendors, state.invoices, state.payments) == ({}, {}, {})
