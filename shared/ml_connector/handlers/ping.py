"""The ping function's handler: invoked by the operator CLI with ``{"customer_id": ...}``, it checks both systems with
the customer's real credentials."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ml_connector import bootstrap
from ml_connector.customers import Customer
from ml_connector.handlers.shape import Handler, instrumented
from ml_connector.ping import ping_customer


def ping_handler() -> Handler:
    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        customer_id = str(event.get("customer_id", ""))
        wiring = bootstrap.adapters()
        customer = wiring.customers.get(customer_id)
        if not isinstance(customer, Customer):
            problem = customer.describe() if customer else f"customer {customer_id!r} has no customer item"
            return {"customer_id": customer_id, "ok": False, "problem": problem}
        # One AvidConnect call, paced alone: the function may read only the customers table.
        return ping_customer(customer, partial(wiring.open_systems, shared_pace=False)).model_dump(mode="json")

    return instrumented(handle)
