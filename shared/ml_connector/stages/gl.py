"""GL stage: segment values (the cost center and any other configured segment) and GL accounts become AvidXchange
enterprise codes. Values first, so an account built on a retired value is deactivated with it."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from ml_connector.domain.gl_mapping import account_code, inactive_segments_of, segment_group_name, segment_value_code
from ml_connector.domain.sage import GLAccount, GLSegment, Page, SegmentValue
from ml_connector.errors import CustomerUnavailable
from ml_connector.retries import RecordRetry
from ml_connector.stage import Stage
from ml_connector.stages.batch_upsert import Upsert, upsert_batch
from ml_connector.stages.change_stream import restart_stream, run_change_stream
from ml_connector.stages.context import StageContext
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.result import StageResult

ACCOUNT_KIND = "gl-account"
VALUE_KIND = "segment-value"
ACCOUNTS_STREAM = "gl-accounts"


class GLSegmentMissing(CustomerUnavailable):
    """The customer item names a GL segment that the Sage company does not have."""


def segment_stream(segment_no: int) -> str:
    return f"gl-segment-{segment_no}"


def synced_segments(ctx: StageContext) -> list[GLSegment]:
    """The customer's cost-center segment and extra segments, as the Sage company defines them."""
    by_no = {segment.segment_no: segment for segment in ctx.agent.gl_segments()}
    wanted = [ctx.customer.cost_center_segment, *ctx.customer.extra_segments]
    missing = [n for n in wanted if n not in by_no]
    if missing:
        raise GLSegmentMissing(
            f"customer {ctx.customer_id}: GL segment(s) {missing} do not exist in Sage company "
            f"{ctx.customer.agent.company} (it has {sorted(by_no)}); fix cost_center_segment / extra_segments"
        )
    return [by_no[n] for n in wanted]


def sync_gl(ctx: StageContext) -> StageResult:
    ledger = RecordLedger(ctx, Stage.GL)
    agent_now = ctx.agent.health().server_time
    for segment in synced_segments(ctx):
        values_changed_status = False

        def handle_values(page: Page[SegmentValue], segment: GLSegment = segment) -> None:
            nonlocal values_changed_status
            ledger.unreadable(VALUE_KIND, page.invalid)
            values_changed_status |= push_segment_values(ctx, ledger, segment, page.items)
            ledger.flush()

        complete = run_change_stream(
            ctx,
            segment_stream(segment.segment_no),
            functools.partial(_segment_values_page, ctx, segment.segment_no),
            handle_values,
            agent_now=agent_now,
        )
        if values_changed_status:
            # Accounts built on a value that was retired (or revived) must be re-evaluated, changed or not.
            restart_stream(ctx, ACCOUNTS_STREAM)
        if not complete:
            return ledger.result(False)

    inactive_values = inactive_segment_values(ctx)

    def handle_accounts(page: Page[GLAccount]) -> None:
        ledger.unreadable(ACCOUNT_KIND, page.invalid)
        push_accounts(ctx, ledger, page.items, inactive_values)
        ledger.flush()

    complete = run_change_stream(
        ctx,
        ACCOUNTS_STREAM,
        lambda since, cursor: ctx.agent.gl_accounts_page(updated_since=since, cursor=cursor),
        handle_accounts,
        agent_now=agent_now,
    )
    return ledger.result(complete)


def _segment_values_page(
    ctx: StageContext, segment_no: int, since: dt.datetime | None, cursor: str | None
) -> Page[SegmentValue]:
    return ctx.agent.segment_values_page(segment_no=segment_no, updated_since=since, cursor=cursor)


def inactive_segment_values(ctx: StageContext) -> set[tuple[int, str]]:
    return {
        (int(m.details["segment_no"]), str(m.details["code"]))
        for m in ctx.state.iter_mappings(ctx.customer_id, VALUE_KIND)
        if not m.details.get("active", True)
    }


def push_segment_values(
    ctx: StageContext, ledger: RecordLedger, segment: GLSegment, values: Sequence[SegmentValue]
) -> bool:
    """Upsert the values; returns whether any value's active flag differs from what was last synced."""
    group = segment_group_name(segment)
    previous = ctx.state.get_mappings(ctx.customer_id, VALUE_KIND, (v.key for v in values))
    upserts = []
    for value in values:
        code = segment_value_code(value, group)
        upserts.append(
            Upsert(
                source_key=value.key,
                payload=code,
                record=value.model_dump(mode="json"),
                source_updated_at=value.updated_at,
                read_detail=f"{group} {code.code_value} changed in Sage {value.updated_at:%Y-%m-%d %H:%M:%S}",
                details={"segment_no": value.segment_no, "code": value.sub_account_code, "active": code.is_active},
            )
        )
    delivered = upsert_batch(ctx, ledger, VALUE_KIND, upserts, ctx.avid.upsert_enterprise_codes)
    return any(
        previous[u.source_key].details.get("active") != u.details["active"]
        for u in delivered
        if u.source_key in previous
    )


def push_accounts(
    ctx: StageContext, ledger: RecordLedger, accounts: Sequence[GLAccount], inactive_values: set[tuple[int, str]]
) -> None:
    upserts = []
    for account in accounts:
        code = account_code(account, inactive_values)
        retired = inactive_segments_of(account, inactive_values)
        detail = f"account {code.code_value} changed in Sage {account.updated_at:%Y-%m-%d %H:%M:%S}"
        if retired:
            detail += "; deactivated because " + ", ".join(retired) + " is inactive"
        upserts.append(
            Upsert(
                source_key=account.key,
                payload=code,
                record=account.model_dump(mode="json"),
                source_updated_at=account.updated_at,
                read_detail=detail,
                details={
                    "account": code.code_value,
                    "active": code.is_active,
                    "segments": {str(s.segment_no): s.sub_account_code for s in account.segments},
                },
            )
        )
    upsert_batch(ctx, ledger, ACCOUNT_KIND, upserts, ctx.avid.upsert_enterprise_codes)


def retry_gl_record(ctx: StageContext, ledger: RecordLedger, retry: RecordRetry) -> None:
    if retry.record is None:
        raise ValueError(f"{retry.kind} {retry.source_key}: retry message carries no record")
    if retry.kind == VALUE_KIND:
        value = SegmentValue.model_validate(retry.record)
        segment = next(s for s in synced_segments(ctx) if s.segment_no == value.segment_no)
        push_segment_values(ctx, ledger, segment, [value])
    else:
        push_accounts(ctx, ledger, [GLAccount.model_validate(retry.record)], inactive_segment_values(ctx))
