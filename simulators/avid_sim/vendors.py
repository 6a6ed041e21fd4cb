"""Vendor upserts (keyed by ExternalVendorCode) and look-ups."""

from __future__ import annotations

import datetime as dt
from typing import Any

from avid_sim.batch import batch_items, batch_results
from avid_sim.models import VendorIn, VendorRecord
from avid_sim.state import AvidState

MAX_VENDORS_PER_BATCH = 100


def upsert_vendors(state: AvidState, body: Any) -> dict[str, Any]:
    items = batch_items(body, max_items=MAX_VENDORS_PER_BATCH, what="vendor")

    def upsert(vendor: VendorIn) -> dict[str, Any]:
        record = upsert_vendor(state, vendor)
        return {"Id": record.id, "ExternalVendorCode": record.external_vendor_code}

    return batch_results(items, VendorIn, upsert, echo=("ExternalVendorCode", "Name"))


def upsert_vendor(state: AvidState, vendor: VendorIn) -> VendorRecord:
    """Replace the vendor's fields; LastModifiedDate moves only when something changed."""
    with state.lock:
        existing = state.vendors.get(vendor.external_vendor_code)
        if existing is not None and VendorIn.model_validate(existing.model_dump()) == vendor:
            return existing
        record = VendorRecord(
            **vendor.model_dump(),
            id=existing.id if existing is not None else state.new_id("V", "vendor"),
            last_modified_date=state.clock.now(),
        )
        state.vendors[vendor.external_vendor_code] = record
        return record


def find_vendors(
    state: AvidState, *, external_vendor_code: str | None, last_modified_from: dt.datetime | None
) -> list[VendorRecord]:
    with state.lock:
        found = [
            vendor
            for vendor in state.vendors.values()
            if (external_vendor_code is None or vendor.external_vendor_code == external_vendor_code)
            and (last_modified_from is None or vendor.last_modified_date >= last_modified_from)
        ]
    return sorted(found, key=lambda vendor: vendor.last_modified_date)
