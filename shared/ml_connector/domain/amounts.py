"""Money as both APIs carry it: a JSON string with two decimals (``"1250.00"``), a ``Decimal`` in Python."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

CENT = Decimal("0.01")


def parse_amount(value: object) -> Decimal:
    """Accept ``"1250.00"``, ``1250`` or a Decimal; refuse floats and more than two decimals."""
    if isinstance(value, float | bool):
        raise ValueError(f"amount must be a decimal string, not {type(value).__name__} {value!r}")
    if not isinstance(value, str | int | Decimal):
        raise ValueError(f"amount must be a decimal string, got {type(value).__name__}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"amount {value!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"amount {value!r} is not a finite number")
    if amount != amount.quantize(CENT):
        raise ValueError(f"amount {value!r} has more than two decimals")
    return amount.quantize(CENT)


def format_amount(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):f}"


Amount = Annotated[
    Decimal, BeforeValidator(parse_amount), PlainSerializer(format_amount, return_type=str, when_used="json")
]
