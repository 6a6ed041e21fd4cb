"""Sage 100 GL accounts and segment values as AvidXchange enterprise codes (read-only there: Sage is the master)."""

from __future__ import annotations

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


def account_code(account: GLAccount) -> EnterpriseCode:
    """The account's code in ``Accounting Codes``, active exactly when the account is active in Sage: the ERP is the
    codes' master, and each code mirrors its own status (its segment values are codes of their own)."""
    return EnterpriseCode(
        group_name=ACCOUNTING_CODES_GROUP,
        code_value=account.account.strip(),
        description=account.account_desc.strip(),
        is_active=account.status is RecordStatus.ACTIVE,
    )
