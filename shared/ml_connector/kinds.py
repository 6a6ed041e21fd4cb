"""What the connector names: the four sync stages (in cycle order) and the kinds of record they move."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    VENDORS = "vendors"
    GL = "gl"
    INVOICES = "invoices"
    PAYMENTS = "payments"


# The stages a cycle runs, in order.
CYCLE: tuple[Stage, ...] = (Stage.VENDORS, Stage.GL, Stage.INVOICES, Stage.PAYMENTS)


class RecordKind(StrEnum):
    """The kinds of record the connector moves; each has its own key mappings, audit trail and failures."""

    VENDOR = "vendor"
    GL_ACCOUNT = "gl-account"
    SEGMENT_VALUE = "segment-value"
    INVOICE = "invoice"
    PAYMENT = "payment"
