"""A customer's credentials from Secrets Manager (Powertools Parameters: cached briefly in memory, never logged)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ml_connector.errors import CustomerUnavailable

CACHE_SECONDS = 300


class CustomerSecrets(BaseModel):
    """The secret's JSON. SecretStr keeps the values out of reprs, logs and error messages."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    agent_key: SecretStr = Field(min_length=8)
    avid_company_token: SecretStr = Field(min_length=1)
    avid_user_token: SecretStr = Field(min_length=1)


class CustomerSecretsUnavailable(CustomerUnavailable):
    """The customer's secret is missing, unreadable or incomplete."""


def secret_name_of(secret_arn: str) -> str:
    """The name part of a Secrets Manager ARN (without the 6-character suffix AWS appends)."""
    name = secret_arn.split(":secret:", 1)[-1]
    return name[:-7] if len(name) > 7 and name[-7] == "-" else name


def load_customer_secrets(
    secret_arn: str,
    *,
    required_prefix: str,
    max_age: int = CACHE_SECONDS,
    provider: parameters.SecretsProvider | None = None,
) -> CustomerSecrets:
    """``provider``: Powertools' default (the function's own boto3 client) unless given, e.g. for an operator's
    AWS session."""
    if not secret_name_of(secret_arn).startswith(required_prefix):
        raise CustomerSecretsUnavailable(
            f"secret {secret_arn} is outside the connector's prefix {required_prefix!r}; the functions may not read it"
        )
    try:
        if provider is None:
            raw: Any = parameters.get_secret(secret_arn, transform="json", max_age=max_age)
        else:
            raw = provider.get(secret_arn, transform="json", max_age=max_age)
    except parameters.exceptions.TransformParameterError:
        raise CustomerSecretsUnavailable(f"secret {secret_arn} is not a JSON object") from None
    except parameters.exceptions.GetParameterError as error:
        raise CustomerSecretsUnavailable(
            f"secret {secret_arn} cannot be read: {type(error.__cause__).__name__}"
        ) from None
    try:
        return CustomerSecrets.model_validate(raw)
    except ValidationError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "(secret)" for e in error.errors())
        raise CustomerSecretsUnavailable(f"secret {secret_arn} is missing or has invalid fields: {fields}") from None
