"""The four sync stages, in the order a cycle runs them."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    VENDORS = "vendors"
    GL = "gl"
    INVOICES = "invoices"
    PAYMENTS = "payments"


# The stages a cycle runs, in order.
CYCLE: tuple[Stage, ...] = (Stage.VENDORS, Stage.GL, Stage.INVOICES, Stage.PAYMENTS)
