"""Enterprise code upserts (keyed by GroupName + CodeValue), look-ups. No delete: codes retire inactive."""

from __future__ import annotations

from typing import Any

from avid_sim.batch import batch_items, batch_results
from avid_sim.models import EnterpriseCodeIn, EnterpriseCodeRecord
from avid_sim.state import AvidState

MAX_CODES_PER_BATCH = 500
GL_GROUP = "Accounting Codes"


def upsert_enterprise_codes(state: AvidState, body: Any) -> dict[str, Any]:
    items = batch_items(body, max_items=MAX_CODES_PER_BATCH, what="enterprise code")

    def upsert(code: EnterpriseCodeIn) -> dict[str, Any]:
        record = upsert_enterprise_code(state, code)
        return {"Id": record.id, "GroupName": record.group_name, "CodeValue": record.code_value}

    return batch_results(items, EnterpriseCodeIn, upsert, echo=("GroupName", "CodeValue"))


def upsert_enterprise_code(state: AvidState, code: EnterpriseCodeIn) -> EnterpriseCodeRecord:
    with state.lock:
        existing = state.enterprise_codes.get(code.key)
        if existing is not None and EnterpriseCodeIn.model_validate(existing.model_dump()) == code:
            return existing
        record = EnterpriseCodeRecord(
            **code.model_dump(),
            id=existing.id if existing is not None else state.new_id("EC", "enterprise_code"),
            last_modified_date=state.clock.now(),
        )
        state.enterprise_codes[code.key] = record
        return record


def find_enterprise_codes(state: AvidState, *, group_name: str | None) -> list[EnterpriseCodeRecord]:
    with state.lock:
        return [code for code in state.enterprise_codes.values() if group_name is None or code.group_name == group_name]
