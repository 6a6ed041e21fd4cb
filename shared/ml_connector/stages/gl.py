"""GL stage: segment values (the cost center and any other configured segment) and GL accounts become AvidXchange
enterprise codes. Sage is the codes' master: each code mirrors its own Sage status (an active account built on an
inactive cost center stays active; an invoice coded to it waits on the cost center, and says so)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from ml_connector.domain.gl_mapping import account_code, segment_group_name, segment_value_code
from ml_connector.domain.sage import GLAccount, GLSegment, Page, SegmentValue
from ml_connector.errors import CustomerUnavailable
from ml_connector.kinds import RecordKind, Stage
from ml_connector.messages import RecordRetry
from ml_connector.stages.batch_upsert import Upsert, upsert_batch
from ml_connector.stages.change_stream import run_change_stream
from ml_connector.stages.context import StageContext
from ml_connector.stages.ledger import RecordLedger
from ml_connector.stages.result import StageResult

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
        complete = run_change_stream(
            ctx,
            segment_stream(segment.segment_no),
            functools.partial(_segment_values_page, ctx, segment.segment_no),
            ledger.page_handler(RecordKind.SEGMENT_VALUE, functools.partial(push_segment_values, ctx, ledger, segment)),
            agent_now=agent_now,
        )
        if not complete:
            return ledger.result(False)

    complete = run_change_stream(
        ctx,
        ACCOUNTS_STREAM,
        lambda since, cursor: ctx.agent.gl_accounts_page(updated_since=since, cursor=cursor),
        ledger.page_handler(RecordKind.GL_ACCOUNT, functools.partial(push_accounts, ctx, ledger)),
        agent_now=agent_now,
    )
    return ledger.result(complete)


def _segment_values_page(
    ctx: StageContext, segment_no: int, since: dt.datetime | None, cursor: str | None
) -> Page[SegmentValue]:
    return ctx.agent.segment_values_page(segment_no=segment_no, updated_since=since, cursor=cursor)


def push_segment_values(
    ctx: StageContext, ledger: RecordLedger, segment: GLSegment, values: Sequence[SegmentValue]
) -> None:
    group = segment_group_name(segment)
    upserts = []
    for value in values:
        code = segment_value_code(value, group)
        upserts.append(
            Upsert(
                source_key=value.key,
                payload=code,
                source_updated_at=value.updated_at,
                read_detail=f"{group} {code.code_value} changed in Sage {value.updated_at:%Y-%m-%d %H:%M:%S}",
                details={"segment_no": value.segment_no, "code": value.sub_account_code, "active": code.is_active},
            )
        )
    upsert_batch(ctx, ledger, RecordKind.SEGMENT_VALUE, upserts, ctx.avid.upsert_enterprise_codes)


def push_accounts(ctx: StageContext, ledger: RecordLedger, accounts: Sequence[GLAccount]) -> None:
    upserts = []
    for account in accounts:
        code = account_code(account)
        upserts.append(
            Upsert(
                source_key=account.key,
                payload=code,
                source_updated_at=account.updated_at,
                read_detail=f"account {code.code_value} changed in Sage {account.updated_at:%Y-%m-%d %H:%M:%S}",
                details={
                    "account": code.code_value,
                    "active": code.is_active,
                    "segments": {str(s.segment_no): s.sub_account_code for s in account.segments},
                },
            )
        )
    upsert_batch(ctx, ledger, RecordKind.GL_ACCOUNT, upserts, ctx.avid.upsert_enterprise_codes)


def retry_gl_record(ctx: StageContext, ledger: RecordLedger, retry: RecordRetry) -> None:
    """Read the code again by key: a retry sends it as it is in Sage now."""
    if retry.kind == RecordKind.SEGMENT_VALUE:
        segment_no, _, code = retry.source_key.partition("-")
        value = ctx.agent.segment_value(int(segment_no), code)
        segment = next((s for s in synced_segments(ctx) if s.segment_no == int(segment_no)), None)
        if value is None or segment is None:
            ledger.skipped(
                RecordKind.SEGMENT_VALUE, retry.source_key, "no longer in Sage 100 (or its segment is not synced)"
            )
            return
        push_segment_values(ctx, ledger, segment, [value])
        return
    account = ctx.agent.gl_account(retry.source_key)
    if account is None:
        ledger.skipped(RecordKind.GL_ACCOUNT, retry.source_key, "no longer in Sage 100; nothing to send")
        return
    push_accounts(ctx, ledger, [account])
