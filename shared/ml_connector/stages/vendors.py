"""Vendors stage: changed Sage 100 vendors (AP_Vendor) upserted into AvidXchange, first of every cycle."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ml_connector.domain.sage import SageVendor
from ml_connector.domain.vendor_mapping import to_avid_vendor, vendor_is_payable
from ml_connector.kinds import RecordKind, Stage
from ml_connector.messages import RecordRetry
from ml_connector.stages.batch_upsert import Upsert, upsert_batch
from ml_connector.stages.change_stream import run_change_stream
from ml_connector.stages.context import StageContext
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.result import StageResult

STREAM = "vendors"


def sync_vendors(ctx: StageContext) -> StageResult:
    ledger = RecordLedger(ctx, Stage.VENDORS)
    agent_now = ctx.agent.health().server_time

    complete = run_change_stream(
        ctx,
        STREAM,
        lambda since, cursor: ctx.agent.vendors_page(updated_since=since, cursor=cursor),
        ledger.page_handler(RecordKind.VENDOR, functools.partial(push_vendors, ctx, ledger)),
        agent_now=agent_now,
    )
    return ledger.result(complete)


def push_vendors(ctx: StageContext, ledger: RecordLedger, vendors: Sequence[SageVendor]) -> None:
    upserts = [
        Upsert(
            source_key=vendor.key,
            payload=to_avid_vendor(vendor),
            source_updated_at=vendor.updated_at,
            read_detail=f"changed in Sage {vendor.updated_at:%Y-%m-%d %H:%M:%S}",
            details={
                "active": vendor_is_payable(vendor),
                "status": vendor.vendor_status.value,
                "hold": vendor.hold_payment,
            },
            sensitive=True,  # TaxpayerIDSocialSecurityNo
        )
        for vendor in vendors
    ]
    upsert_batch(ctx, ledger, RecordKind.VENDOR, upserts, ctx.avid.upsert_vendors)


def retry_vendor(ctx: StageContext, ledger: RecordLedger, retry: RecordRetry) -> None:
    """Read the vendor again by key: a retry sends it as it is in Sage now."""
    division, _, vendor_no = retry.source_key.partition("-")
    vendor = ctx.agent.vendor(division, vendor_no)
    if vendor is None:
        ledger.skipped(RecordKind.VENDOR, retry.source_key, "no longer in Sage 100; nothing to send")
        return
    push_vendors(ctx, ledger, [vendor])
