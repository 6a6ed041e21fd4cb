"""Where a deployment's resources are: the local stack (``.local-stack/stack.json``) or a CloudFormation stack on AWS.

Both resolve the same way: the template's Outputs name the tables, the key, the secret prefix, the retry queue, the
DLQs and the ping function; the per-stage work queues (not outputs) come from the ping function's environment, which
the template's Globals give every function.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ml_cli.errors import BadInput, OperationFailed
from ml_connector.adapters.customer_table import DynamoCustomerDirectory
from ml_connector.customers import describe_validation_error
from ml_connector.kinds import Stage
from ml_connector.settings import FunctionSettings
from ml_connector.state.call_schedule import DynamoCallSchedule
from ml_connector.state.dynamodb import DynamoStateStore

# Where `ml-local up` writes by default: the repository's .local-stack, wherever mlc is run from.
DEFAULT_LOCAL_STACK_FILE = Path(__file__).resolve().parents[2] / ".local-stack" / "stack.json"
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class StackOutputs(BaseModel):
    """The Outputs of template.yaml the CLI needs."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    customers_table: str = Field(alias="CustomersTableName", min_length=1)
    state_table: str = Field(alias="StateTableName", min_length=1)
    connector_key_arn: str = Field(alias="ConnectorKeyArn", pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:")
    secret_prefix: str = Field(alias="SecretPrefix", min_length=1)
    retry_queue_url: str = Field(alias="RetryQueueUrl", min_length=1)
    record_dlq_url: str = Field(alias="RecordDeadLetterQueueUrl", min_length=1)
    work_dlq_url: str = Field(alias="WorkDeadLetterQueueUrl", min_length=1)
    ping_function: str = Field(alias="PingFunctionName", min_length=1)

    @property
    def region(self) -> str:
        return self.connector_key_arn.split(":")[3]


class _LocalFunction(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    environment: dict[str, str]


class _LocalStackFile(BaseModel):
    """The part of ml_local's DeployedStack (saved as stack.json) that locates the resources."""

    model_config = ConfigDict(extra="ignore")

    endpoint_url: str
    outputs: dict[str, str]
    functions: dict[str, _LocalFunction]


@dataclass(frozen=True)
class Deployment:
    """One deployment's resource names and the boto3 session (and endpoint, for the local stack) that reaches them."""

    session: boto3.Session
    endpoint_url: str | None
    customers_table: str
    state_table: str
    secret_prefix: str
    connector_key_arn: str
    retry_queue_url: str
    record_dlq_url: str
    work_dlq_url: str
    work_queue_urls: Mapping[Stage, str]
    ping_function: str
    audit_retention: dt.timedelta

    @classmethod
    def of(
        cls,
        session: boto3.Session,
        endpoint_url: str | None,
        outputs: StackOutputs,
        settings: FunctionSettings,
    ) -> Deployment:
        return cls(
            session=session,
            endpoint_url=endpoint_url,
            customers_table=outputs.customers_table,
            state_table=outputs.state_table,
            secret_prefix=outputs.secret_prefix,
            connector_key_arn=outputs.connector_key_arn,
            retry_queue_url=outputs.retry_queue_url,
            record_dlq_url=outputs.record_dlq_url,
            work_dlq_url=outputs.work_dlq_url,
            work_queue_urls={stage: settings.work_queue_url(stage) for stage in Stage},
            ping_function=outputs.ping_function,
            audit_retention=dt.timedelta(days=settings.audit_retention_days),
        )

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None

    def work_queue_url(self, stage: Stage) -> str:
        return self.work_queue_urls[stage]

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    def resource(self, service: str) -> Any:
        return self.session.resource(service, endpoint_url=self.endpoint_url)

    def customers(self) -> DynamoCustomerDirectory:
        return DynamoCustomerDirectory(self.customers_table, dynamodb=self.resource("dynamodb"))

    def call_schedule(self) -> DynamoCallSchedule:
        """The customers' AvidConnect call schedules, shared with the functions' calls."""
        return DynamoCallSchedule(self.state_table, dynamodb=self.resource("dynamodb"))

    def state(self) -> DynamoStateStore:
        return DynamoStateStore(
            self.state_table, audit_retention=self.audit_retention, dynamodb=self.resource("dynamodb")
        )


def _outputs(raw: dict[str, str], where: str) -> StackOutputs:
    try:
        return StackOutputs.model_validate(raw)
    except ValidationError as error:
        raise BadInput(f"{where} lacks outputs the CLI needs: {'; '.join(describe_validation_error(error))}") from None


def _settings(environment: dict[str, str], where: str) -> FunctionSettings:
    try:
        return FunctionSettings.from_environment(environment)
    except ValidationError as error:
        problems = "; ".join(describe_validation_error(error))
        raise BadInput(f"{where}: the ping function's environment is incomplete: {problems}") from None


def local_deployment(stack_file: Path) -> Deployment:
    """The local stack that ``ml-local up`` (or a test's ``local_stack``) described in ``stack_file``."""
    try:
        raw = json.loads(stack_file.read_text(encoding="utf-8"))
        described = _LocalStackFile.model_validate(raw)
    except FileNotFoundError:
        raise BadInput(f"no local stack described at {stack_file}: start one with `ml-local up`") from None
    except (OSError, ValueError) as error:
        raise BadInput(f"{stack_file} is not a local stack description ({type(error).__name__})") from None
    where = f"local stack {stack_file}"
    outputs = _outputs(described.outputs, where)
    ping = next((f for f in described.functions.values() if f.name == outputs.ping_function), None)
    if ping is None:
        raise BadInput(f"{where} does not describe the ping function {outputs.ping_function}")
    return Deployment.of(
        boto3.Session(region_name=outputs.region, **LOCAL_CREDENTIALS),
        described.endpoint_url,
        outputs,
        _settings(ping.environment, where),
    )


def aws_deployment(stack_name: str, *, profile: str | None = None, region: str | None = None) -> Deployment:
    """A deployed CloudFormation stack: its Outputs, and the ping function's environment for the work queues."""
    where = f"stack {stack_name}"
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
        raw = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        outputs = _outputs(raw, where)
        config = session.client("lambda").get_function_configuration(FunctionName=outputs.ping_function)
    except ClientError as error:
        if error.response["Error"].get("Code") == "ValidationError":
            raise BadInput(f"{where}: {error.response['Error'].get('Message')}") from None
        raise
    except BotoCoreError as error:
        raise OperationFailed(f"cannot reach AWS for {where}: {error}") from None
    environment = {k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()}
    return Deployment.of(session, None, outputs, _settings(environment, where))
