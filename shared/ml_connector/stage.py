"""The four sync stages, in the order a cycle runs them."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    VENDORS = "vendors"
    GL = "gl"
    INVOICES = "invoices"
    PAYMENTS = "payments"

    @property
    def next(self) -> Stage | None:
        order = list(Stage)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None
