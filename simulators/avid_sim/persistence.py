"""Keeps a standalone simulator's state in ``state-dir/state.json`` so it survives restarts (the demo)."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from pathlib import Path

from pydantic import BaseModel, ValidationError

from avid_sim.clock import SimClock
from avid_sim.models import Company, EnterpriseCodeRecord, InvoiceRecord, PaymentRecord, VendorRecord
from avid_sim.state import AvidState, Sequences

STATE_FILE = "state.json"


class StateFileError(Exception):
    """The state file exists but cannot be used."""


class _Snapshot(BaseModel):
    company: Company
    vendors: list[VendorRecord]
    enterprise_codes: list[EnterpriseCodeRecord]
    invoices: list[InvoiceRecord]
    payments: list[PaymentRecord]
    sequences: dict[str, int]


def snapshot_json(state: AvidState) -> str:
    with state.lock:
        snapshot = _Snapshot(
            company=state.company,
            vendors=list(state.vendors.values()),
            enterprise_codes=list(state.enterprise_codes.values()),
            invoices=list(state.invoices.values()),
            payments=list(state.payments.values()),
            sequences=dataclasses.asdict(state.sequences),
        )
        return snapshot.model_dump_json(indent=1)


def load_state(path: Path, *, clock: SimClock, seed: int) -> AvidState:
    """The state saved at ``path``, or an empty one if there is no file yet."""
    if not path.exists():
        return AvidState(clock=clock, seed=seed)
    try:
        snapshot = _Snapshot.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, json.JSONDecodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise StateFileError(f"state file {path} cannot be read ({reason}); move it away to start empty") from None
    return AvidState(
        clock=clock,
        seed=seed,
        company=snapshot.company,
        vendors={vendor.external_vendor_code: vendor for vendor in snapshot.vendors},
        enterprise_codes={code.key: code for code in snapshot.enterprise_codes},
        invoices={invoice.id: invoice for invoice in snapshot.invoices},
        payments={payment.payment_id: payment for payment in snapshot.payments},
        sequences=Sequences(**snapshot.sequences),
    )


class Autosaver:
    """Writes the state to ``path`` whenever it changed, checking every ``interval`` seconds, and once on stop."""

    def __init__(self, state: AvidState, path: Path, *, interval: float = 1.0) -> None:
        self._state = state
        self._path = path
        self._interval = interval
        self._saved = path.read_text() if path.exists() else ""
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="avid-sim-autosave", daemon=True)

    def start(self) -> Autosaver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        self.save_if_changed()

    def save_if_changed(self) -> None:
        current = snapshot_json(self._state)
        if current == self._saved:
            return
        partial = self._path.with_suffix(".tmp")
        partial.write_text(current)
        os.replace(partial, self._path)
        self._saved = current

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self.save_if_changed()
