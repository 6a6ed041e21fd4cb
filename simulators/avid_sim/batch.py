"""Batch upserts: HTTP 200 with one ``Result`` per item, in input order, failures included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from avid_sim.errors import AvidApiError
from avid_sim.validation import field_messages

Item = TypeVar("Item", bound=BaseModel)


def batch_items(body: Any, *, max_items: int, what: str) -> list[Any]:
    """The items of a batch body: ``{"Items": [...]}`` or a bare JSON array."""
    items = body.get("Items") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise AvidApiError(400, f"{what} batch must be a JSON object with an 'Items' array (or a JSON array)")
    if len(items) > max_items:
        raise AvidApiError(400, f"{what} batch has {len(items)} items; send at most {max_items} per call")
    return items


def batch_results(
    items: list[Any],
    model: type[Item],
    upsert: Callable[[Item], dict[str, Any]],
    *,
    echo: tuple[str, ...],
) -> dict[str, Any]:
    """Validate and upsert each item alone; ``echo`` names the key fields a failed item's result repeats."""
    results: list[dict[str, Any]] = []
    for raw in items:
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            echoed = {key: raw.get(key) for key in echo if key in raw} if isinstance(raw, dict) else {}
            errors = [{"Message": message} for message in field_messages(exc)]
            results.append({"Successful": False, "Errors": errors, "Item": echoed})
            continue
        results.append({"Successful": True, "Errors": [], "Item": upsert(item)})
    return {"Results": results}
