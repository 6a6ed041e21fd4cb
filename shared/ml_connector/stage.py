"""The four sync stages, in the order a cycle runs them."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    VENDORS = "vendors"
    GL = "gl"
    INVOICES = "invoices"
    PAYMENTS = "payments"


# The stages this release runs, in cycle order. Payments (AvidXchange -> Sage manual checks) has its queue, function
# and permissions in the template already; the dispatcher queues it once its stage is built.
CYCLE: tuple[Stage, ...] = (Stage.VENDORS, Stage.GL, Stage.INVOICES)
