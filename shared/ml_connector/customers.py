"""A customer is one DynamoDB item: its configuration, never its secrets (those stay in Secrets Manager)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from ml_connector.connections import AgentConnection, AvidConnection
from ml_connector.kinds import Stage
from ml_connector.model import Model

CUSTOMER_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$"


class StageSchedules(Model):
    """Minutes between runs of each stage. Reference data is slow (hours); invoices and payments every 15-30 min."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vendors: int = Field(default=360, ge=5, le=10080)
    gl: int = Field(default=360, ge=5, le=10080)
    invoices: int = Field(default=30, ge=5, le=10080)
    payments: int = Field(default=15, ge=5, le=10080)

    def every(self, stage: Stage) -> dt.timedelta:
        return dt.timedelta(minutes=getattr(self, stage.value))


class Customer(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str = Field(pattern=CUSTOMER_ID_PATTERN, description="Stable id; message group and key prefix.")
    display_name: str = Field(min_length=1, max_length=80)
    enabled: bool = True
    agent: AgentConnection
    avid: AvidConnection
    secret_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$",
        description="Secrets Manager secret holding agent_key, avid_company_token, avid_user_token.",
    )
    schedules: StageSchedules = StageSchedules()
    invoice_start_date: dt.date = Field(description="Open invoices dated before this are never pushed.")
    bank_code: str = Field(pattern=r"^[A-Z0-9]$", description="Sage 100 bank code for posted manual checks.")
    cost_center_segment: int = Field(ge=1, le=9, description="GL SegmentNo that AvidXchange codes as cost center.")
    extra_segments: tuple[int, ...] = Field(default=(), description="Further GL segments synced as code groups.")
    settle_on: Literal["Sent", "Cleared"] = "Sent"
    on_hold_invoices: Literal["wait", "approve"] = Field(
        default="wait",
        description=(
            "Invoices of a vendor on payment hold in Sage: 'wait' until the hold is released (the default: nothing"
            " of a held vendor reaches AvidXchange's approval and payment), or 'approve' (sent to approval while the"
            " vendor stays inactive, so unpayable, in AvidXchange)."
        ),
    )
    overlap_minutes: int = Field(default=10, ge=0, le=1440, description="Look-back added to every change poll.")
    max_image_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1, description="AvidXchange's invoice image size limit (assumed 25 MB)."
    )
    reconcile_every_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 31,
        description="Hours between scheduled reconciliations of Sage 100, AvidXchange and the connector's mappings.",
    )
    first_run_dry: bool = Field(
        default=False,
        description=(
            "Onboarding: the first dispatch runs a preview of the whole cycle (writing nothing anywhere) and keeps it"
            " for `mlc status`; real syncing starts only once an operator sets this back to false."
        ),
    )


class InvalidCustomer(Model):
    """A customer item that failed validation: reported and skipped, never fatal for the others."""

    customer_id: str
    problems: list[str]

    def describe(self) -> str:
        return f"customer {self.customer_id}: " + "; ".join(self.problems)


def describe_validation_error(error: ValidationError) -> list[str]:
    """One line per problem: the field path and why, e.g. ``agent.company: String should match pattern ...``."""
    lines = []
    for problem in error.errors():
        path = ".".join(str(p) for p in problem["loc"]) or "(item)"
        lines.append(f"{path}: {problem['msg']}")
    return lines


def parse_customer_item(item: dict[str, Any]) -> Customer | InvalidCustomer:
    try:
        return Customer.model_validate(item)
    except ValidationError as error:
        return InvalidCustomer(
            customer_id=str(item.get("customer_id", "(no customer_id)")),
            problems=describe_validation_error(error),
        )


def customer_to_item(customer: Customer) -> dict[str, Any]:
    """The DynamoDB item: plain JSON types, with numbers as Decimal as DynamoDB requires."""
    item: dict[str, Any] = json.loads(customer.model_dump_json(exclude_none=True), parse_float=Decimal)
    return item
