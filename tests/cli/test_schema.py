"""The committed customer schema and example match the model."""

from __future__ import annotations

import json
from pathlib import Path

from ml_cli.commands.customer import customer_json_schema
from ml_connector.customers import Customer

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schema_is_the_models_current_schema() -> None:
    committed = json.loads((SCHEMAS / "customer.schema.json").read_text(encoding="utf-8"))
    assert committed == customer_json_schema(), (
        "schemas/customer.schema.json is stale: regenerate it with `mlc customer schema > schemas/customer.schema.json`"
    )


def test_example_item_validates() -> None:
    raw = json.loads((SCHEMAS / "customer.example.json").read_text(encoding="utf-8"))
    customer = Customer.model_validate(raw)
    assert customer.customer_id == "redrock"
