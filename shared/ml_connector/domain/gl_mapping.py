"""Sage 100 GL accounts and segment values as AvidXchange enterprise codes (read-only there: Sage is the master)."""

from __future__ import annotations

from collections.abc import Collection

from ml_connector.domain.avid import EnterpriseCode
from ml_connector.domain.sage import GLAccount, GLSegment, RecordStatus, SegmentValue

ACCOUNTING_CODES_GROUP = "Accounting Codes"


def segment_group_name(segment: GLSegment) -> str:
    """The code group a segment's values go to: the segment's own name, e.g. ``Cost Center``."""
    return segment.segment_name.strip()


def segment_value_code(value: SegmentValue, group_name: str) -> EnterpriseCode:
    return EnterpriseCode(
        group_name=group_name,
        code_value=value.sub_account_code.strip(),
        description=value.sub_account_desc.strip(),
        is_active=value.status is RecordStatus.ACTIVE,
    )


def inactive_segments_of(account: GLAccount, inactive_values: Collection[tuple[int, str]]) -> list[str]:
    """The account's segment values that are inactive or deleted, as ``segment n value`` descriptions."""
    return [
        f"segment {s.segment_no} value {s.sub_account_code}"
        for s in account.segments
        if (s.segment_no, s.sub_account_code) in inactive_values
    ]


def account_code(account: GLAccount, inactive_values: Collection[tuple[int, str]] = ()) -> EnterpriseCode:
    """The account's code in ``Accounting Codes``. It is active only while the account and every segment value it
    is built from are active: an invoice coded to it would otherwise post to a retired cost center."""
    active = account.status is RecordStatus.ACTIVE and not inactive_segments_of(account, inactive_values)
    return EnterpriseCode(
        group_name=ACCOUNTING_CODES_GROUP,
        code_value=account.account.strip(),
        description=account.account_desc.strip(),
        is_active=active,
    )
