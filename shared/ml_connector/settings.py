"""The functions' environment, validated once at cold start so a missing resource name fails loudly and early."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import ConfigDict, Field

from ml_connector.kinds import Stage
from ml_connector.model import Model


class FunctionSettings(Model):
    """What template.yaml's Globals give every function (see Globals.Function.Environment)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    environment_name: str = Field(alias="ENVIRONMENT_NAME", pattern=r"^[a-z0-9-]+$")
    customers_table: str = Field(alias="CUSTOMERS_TABLE", min_length=3)
    state_table: str = Field(alias="STATE_TABLE", min_length=3)
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=3)
    secret_prefix: str = Field(alias="SECRET_PREFIX", min_length=1)
    connector_key_arn: str = Field(alias="CONNECTOR_KEY_ARN", pattern=r"^arn:aws[a-z-]*:kms:")
    audit_retention_days: int = Field(alias="AUDIT_RETENTION_DAYS", ge=1)
    retry_queue_url: str = Field(alias="RETRY_QUEUE_URL", min_length=8)
    vendors_queue_url: str = Field(alias="VENDORS_QUEUE_URL", min_length=8)
    gl_queue_url: str = Field(alias="GL_QUEUE_URL", min_length=8)
    invoices_queue_url: str = Field(alias="INVOICES_QUEUE_URL", min_length=8)
    payments_queue_url: str = Field(alias="PAYMENTS_QUEUE_URL", min_length=8)

    def work_queue_url(self, stage: Stage) -> str:
        return {
            Stage.VENDORS: self.vendors_queue_url,
            Stage.GL: self.gl_queue_url,
            Stage.INVOICES: self.invoices_queue_url,
            Stage.PAYMENTS: self.payments_queue_url,
        }[stage]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> FunctionSettings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


@lru_cache(maxsize=1)
def function_settings() -> FunctionSettings:
    """The settings of this Lambda execution environment, read once."""
    return FunctionSettings.from_environment()
