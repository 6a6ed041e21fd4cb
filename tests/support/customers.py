"""Customer items for tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ml_connector.customers import Customer

SECRET_PREFIX = "ml-connector/dev/customers/"


def customer_item(customer_id: str, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "customer_id": customer_id,
        "display_name": f"Test customer {customer_id}",
        "enabled": True,
        "agent": {"base_url": "https://127.0.0.1:9443", "company": "RCC"},
        "avid": {"base_url": "https://127.0.0.1:9444"},
        "secret_arn": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET_PREFIX}{customer_id}-AbCdEf",
        "invoice_start_date": "2026-01-01",
        "bank_code": "A",
        "cost_center_segment": 3,
    }
    item.update(overrides)
    return item


def make_customer(customer_id: str = "acme-build", **overrides: Any) -> Customer:
    return Customer.model_validate(customer_item(customer_id, **overrides))


UTC_NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
