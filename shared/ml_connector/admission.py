"""What a customer must satisfy in this deployment before any of its systems is called.

The customer model alone cannot say it: the secret must be this deployment's secret for this very customer, and
TLS verification may be off only in a dev deployment (there with a warning and a metric on every run).
"""

from __future__ import annotations

from ml_connector.connections import TlsMode
from ml_connector.customers import Customer
from ml_connector.errors import CustomerUnavailable
from ml_connector.observability import record_insecure_tls

INSECURE_TLS_ENVIRONMENTS = frozenset({"dev"})


class CustomerNotAdmitted(CustomerUnavailable):
    """The customer's item breaks a rule of this deployment; nothing runs for it until the item is fixed."""


def tls_problem(customer: Customer, environment: str) -> str | None:
    if customer.agent.tls.mode is TlsMode.INSECURE and environment not in INSECURE_TLS_ENVIRONMENTS:
        return (
            f"customer {customer.customer_id}: agent.tls.mode insecure is refused in the {environment} deployment "
            "(allowed in dev only); use mode pinned with the fingerprint the agent prints (`sage-agent fingerprint`)"
        )
    return None


def admit_customer(customer: Customer, *, environment: str) -> None:
    """Raise ``CustomerNotAdmitted`` for insecure TLS outside dev; warn and count it in dev."""
    problem = tls_problem(customer, environment)
    if problem is not None:
        raise CustomerNotAdmitted(problem)
    if customer.agent.tls.mode is TlsMode.INSECURE:
        record_insecure_tls(customer.customer_id, customer.agent.base_url)
