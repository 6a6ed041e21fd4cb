"""The base of every model that crosses a wire in PascalCase (the agent's Sage columns, AvidConnect's JSON)."""

from __future__ import annotations

from pydantic import ConfigDict, ValidationError
from pydantic.alias_generators import to_pascal

from ml_connector.model import Model


class PascalModel(Model):
    """PascalCase on the wire, snake_case in Python; immutable; unknown fields ignored.

    Records carry tax ids and tokens travel near them: validation errors never echo input values.
    """

    model_config = ConfigDict(
        alias_generator=to_pascal,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
        extra="ignore",
        hide_input_in_errors=True,
    )


def validation_messages(error: ValidationError) -> list[str]:
    """Each error as ``field.path: message`` (``record`` for an error of the whole record)."""
    return [f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors()]


def validation_summary(error: ValidationError) -> str:
    """``validation_messages`` on one line."""
    return "; ".join(validation_messages(error))
