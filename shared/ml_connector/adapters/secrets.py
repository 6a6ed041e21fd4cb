"""A customer's credentials from Secrets Manager (Powertools Parameters: cached briefly in memory, never logged).

One function serves every customer, so its IAM role may read every secret under the connector's prefix; what keeps
customer A from running with customer B's credentials is here: the secret must be named exactly
``<prefix><customer_id>`` and carry the tag ``customer_id=<customer_id>`` (set by ``mlc secrets put``).
"""

from __future__ import annotations

import threading
import time
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ConfigDict, Field, SecretStr, ValidationError

from ml_connector.customers import Customer
from ml_connector.errors import CustomerUnavailable
from ml_connector.model import Model

# Longer than the polls are apart (15 minutes), so a warm function reads a secret about once an hour, not every poll;
# credentials a system refuses drop the cache at once (forget_cached_secrets), so a rotation never waits for it.
CACHE_SECONDS = 3600
CUSTOMER_TAG = "customer_id"


class CustomerSecrets(Model):
    """The secret's JSON. SecretStr keeps the values out of reprs, logs and error messages."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    agent_key: SecretStr = Field(min_length=8)
    avid_company_token: SecretStr = Field(min_length=1)
    avid_user_token: SecretStr = Field(min_length=1)


class CustomerSecretsUnavailable(CustomerUnavailable):
    """The customer's secret is missing, unreadable, incomplete or not the customer's own."""


def secret_name_of(secret_arn: str) -> str:
    """The name part of a Secrets Manager ARN (without the 6-character suffix AWS appends)."""
    name = secret_arn.split(":secret:", 1)[-1]
    return name[:-7] if len(name) > 7 and name[-7] == "-" else name


def secret_name_for(customer_id: str, secret_prefix: str) -> str:
    return f"{secret_prefix}{customer_id}"


def secret_binding_problem(customer: Customer, secret_prefix: str) -> str | None:
    """Why ``customer.secret_arn`` may not be used for this customer, or None."""
    expected = secret_name_for(customer.customer_id, secret_prefix)
    named = customer.secret_arn.split(":secret:", 1)[-1]
    if expected not in (named, secret_name_of(customer.secret_arn)):
        return (
            f"secret_arn {customer.secret_arn} is not customer {customer.customer_id}'s own secret: it must be "
            f"named exactly {expected!r}; store it with `mlc secrets put {customer.customer_id}`"
        )
    return None


class _TagCache:
    """The ``customer_id`` tag of each secret, remembered as long as the secret value is."""

    def __init__(self) -> None:
        self._tags: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def tag_of(self, secret_arn: str, client: Any, max_age: int) -> str | None:
        with self._lock:
            cached = self._tags.get(secret_arn)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        tags = client.describe_secret(SecretId=secret_arn).get("Tags", [])
        value = next((str(t["Value"]) for t in tags if t.get("Key") == CUSTOMER_TAG), None)
        with self._lock:
            self._tags[secret_arn] = (time.monotonic() + max_age, value)
        return value


_tag_cache = _TagCache()


@cache
def _function_provider() -> parameters.SecretsProvider:
    return parameters.SecretsProvider()


def forget_cached_secrets() -> None:
    """Drop what this process cached of every secret: a system refused the credentials, and an operator may have put
    new ones (`mlc secrets put`); the next run reads them afresh instead of failing until the cache expires."""
    _function_provider().clear_cache()  # type: ignore[no-untyped-call]


def load_customer_secrets(
    customer: Customer,
    *,
    secret_prefix: str,
    max_age: int = CACHE_SECONDS,
    provider: parameters.SecretsProvider | None = None,
) -> CustomerSecrets:
    """The customer's own secret, or ``CustomerSecretsUnavailable`` (the run stops for this customer).

    ``provider``: the function's own boto3 client unless given, e.g. for an operator's AWS session."""
    problem = secret_binding_problem(customer, secret_prefix)
    if problem is not None:
        raise CustomerSecretsUnavailable(problem)
    secret_arn = customer.secret_arn
    source = provider or _function_provider()
    try:
        tag = _tag_cache.tag_of(secret_arn, source.client, max_age)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "ClientError")
        raise CustomerSecretsUnavailable(f"secret {secret_arn} cannot be described: {code}") from None
    except BotoCoreError as error:
        raise CustomerSecretsUnavailable(f"secret {secret_arn} cannot be described: {type(error).__name__}") from None
    if tag != customer.customer_id:
        raise CustomerSecretsUnavailable(
            f"secret {secret_arn} is tagged {CUSTOMER_TAG}={tag!r}, not {customer.customer_id!r}; only a secret "
            f"tagged for this customer is used (`mlc secrets put {customer.customer_id}` tags it)"
        )
    try:
        raw: Any = source.get(secret_arn, transform="json", max_age=max_age)
    except parameters.exceptions.TransformParameterError:
        raise CustomerSecretsUnavailable(f"secret {secret_arn} is not a JSON object") from None
    except parameters.exceptions.GetParameterError as error:
        cause = error.__cause__ or error
        raise CustomerSecretsUnavailable(f"secret {secret_arn} cannot be read: {type(cause).__name__}") from None
    try:
        return CustomerSecrets.model_validate(raw)
    except ValidationError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "(secret)" for e in error.errors())
        raise CustomerSecretsUnavailable(f"secret {secret_arn} is missing or has invalid fields: {fields}") from None
