"""Deploys template.yaml into moto server mode and describes what came out of it."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ml_local.aws import LocalAws
from ml_local.intrinsics import IntrinsicResolver
from ml_local.template import (
    ARTIFACT_BUCKET,
    SKIPPED_BY_MOTO,
    code_artifacts,
    load_sam_template,
    resources_of_type,
    translate,
)

DEFAULT_STACK_NAME = "ml-connector-local"
DEFAULT_PARAMETERS = {"EnvironmentName": "dev", "RecordMaxReceives": "3"}


@dataclass
class EventSource:
    queue_arn: str
    queue_url: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    code_dir: str
    handler: str
    timeout: int
    environment: dict[str, str]
    event_sources: list[EventSource] = field(default_factory=list)


@dataclass
class LocalSchedule:
    name: str
    expression: str
    target_function: str
    input: str


@dataclass
class DeployedStack:
    """Everything the driver, the CLI and the tests need to find the local stack's resources."""

    endpoint_url: str
    stack_name: str
    parameters: dict[str, str]
    physical_ids: dict[str, str]
    outputs: dict[str, str]
    functions: dict[str, LocalFunction]
    schedules: list[LocalSchedule]
    alarms: list[str]

    @property
    def aws(self) -> LocalAws:
        return LocalAws(self.endpoint_url)

    def function(self, logical_id: str) -> LocalFunction:
        return self.functions[logical_id]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> DeployedStack:
        raw = json.loads(path.read_text(encoding="utf-8"))
        raw["functions"] = {
            k: LocalFunction(**{**v, "event_sources": [EventSource(**e) for e in v["event_sources"]]})
            for k, v in raw["functions"].items()
        }
        raw["schedules"] = [LocalSchedule(**s) for s in raw["schedules"]]
        return cls(**raw)


def deploy_stack(
    aws: LocalAws, *, stack_name: str = DEFAULT_STACK_NAME, parameters: dict[str, str] | None = None
) -> DeployedStack:
    """Translate template.yaml, create it with moto's CloudFormation, then create what moto skips."""
    params = {**DEFAULT_PARAMETERS, **(parameters or {})}
    sam_template = load_sam_template()
    _upload_code(aws, sam_template)
    template = translate(sam_template, aws.region)
    cfn = aws.client("cloudformation")
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(
            f"local stack {stack_name} ended in {stack['StackStatus']}: {stack.get('StackStatusReason')}"
        )
    physical_ids = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
        if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    attributes = _AttributeLookup(aws, template, physical_ids)
    effective = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()} | params
    effective["AWS::StackName"] = stack_name
    resolver = IntrinsicResolver(effective, physical_ids, _conditions(template, effective), attributes)
    _repair_key_policies(aws, template, resolver, physical_ids)
    _apply_table_settings(aws, template, physical_ids)
    functions = _describe_functions(aws, template, physical_ids, sam_template)
    schedules = _create_schedules(aws, template, resolver, functions)
    alarms = _create_alarms(aws, template, resolver, stack_name)
    return DeployedStack(aws.endpoint_url, stack_name, params, physical_ids, outputs, functions, schedules, alarms)


def _upload_code(aws: LocalAws, sam_template: dict[str, Any]) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    for artifact in code_artifacts(sam_template):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for path in sorted(artifact.source_dir.rglob("*.py")):
                archive.write(path, path.relative_to(artifact.source_dir))
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=artifact.s3_key, Body=buffer.getvalue())


def _conditions(template: dict[str, Any], params: dict[str, str]) -> dict[str, bool]:
    conditions = template.get("Conditions", {})
    return {name: _condition_holds(expression, params, conditions) for name, expression in conditions.items()}


def _condition_holds(expression: Any, params: dict[str, str], conditions: dict[str, Any]) -> bool:
    """Fn::Equals over parameters and literals, Fn::Not, Fn::And, Fn::Or and Condition: the template's shapes."""
    ((function, argument),) = expression.items()
    if function == "Condition":
        return _condition_holds(conditions[argument], params, conditions)
    if function == "Fn::Equals":
        left, right = (params.get(side["Ref"], "") if isinstance(side, dict) else str(side) for side in argument)
        return left == right
    holds = [_condition_holds(part, params, conditions) for part in argument]
    if function == "Fn::Not":
        return not holds[0]
    if function == "Fn::And":
        return all(holds)
    if function == "Fn::Or":
        return any(holds)
    raise ValueError(f"local stack cannot evaluate condition {function}")


class _AttributeLookup:
    """Fn::GetAtt against the moto stack, for the attributes the skipped resources use."""

    def __init__(self, aws: LocalAws, template: dict[str, Any], physical_ids: dict[str, str]) -> None:
        self._aws = aws
        self._template = template
        self._physical_ids = physical_ids

    def __call__(self, logical_id: str, attribute: str) -> str:
        resource_type = self._template["Resources"][logical_id]["Type"]
        physical = self._physical_ids[logical_id]
        if resource_type == "AWS::Lambda::Function" and attribute == "Arn":
            arn: str = self._aws.client("lambda").get_function(FunctionName=physical)["Configuration"]["FunctionArn"]
            return arn
        if resource_type == "AWS::SQS::Queue":
            attrs = self._aws.client("sqs").get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])
            arn = attrs["Attributes"]["QueueArn"]
            return arn if attribute == "Arn" else arn.rsplit(":", 1)[1]
        if resource_type == "AWS::IAM::Role" and attribute == "Arn":
            role_arn: str = self._aws.client("iam").get_role(RoleName=physical)["Role"]["Arn"]
            return role_arn
        if resource_type == "AWS::KMS::Key" and attribute == "Arn":
            key_arn: str = self._aws.client("kms").describe_key(KeyId=physical)["KeyMetadata"]["Arn"]
            return key_arn
        raise KeyError(f"local stack cannot resolve Fn::GetAtt {logical_id}.{attribute}")


def _repair_key_policies(
    aws: LocalAws, template: dict[str, Any], resolver: IntrinsicResolver, physical_ids: dict[str, str]
) -> None:
    """moto's CloudFormation stores a KMS key policy as a dict, which its own KMS API then fails to parse; put the
    template's policy again, as JSON text."""
    kms = aws.client("kms")
    for logical_id, resource in resources_of_type(template, "AWS::KMS::Key"):
        policy = resolver.resolve(resource["Properties"]["KeyPolicy"])
        kms.put_key_policy(KeyId=physical_ids[logical_id], PolicyName="default", Policy=json.dumps(policy))


def _apply_table_settings(aws: LocalAws, template: dict[str, Any], physical_ids: dict[str, str]) -> None:
    """moto's CloudFormation ignores a table's TTL and point-in-time recovery settings; apply the template's."""
    dynamodb = aws.client("dynamodb")
    for logical_id, resource in resources_of_type(template, "AWS::DynamoDB::Table"):
        props = resource["Properties"]
        table = physical_ids[logical_id]
        if "TimeToLiveSpecification" in props:
            dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification=props["TimeToLiveSpecification"])
        if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )


def _describe_functions(
    aws: LocalAws, template: dict[str, Any], physical_ids: dict[str, str], sam_template: dict[str, Any]
) -> dict[str, LocalFunction]:
    lambda_client = aws.client("lambda")
    functions: dict[str, LocalFunction] = {}
    for logical_id, _resource in resources_of_type(template, "AWS::Lambda::Function"):
        config = lambda_client.get_function_configuration(FunctionName=physical_ids[logical_id])
        code_dir = sam_template["Resources"][logical_id]["Properties"]["CodeUri"]
        functions[logical_id] = LocalFunction(
            logical_id=logical_id,
            name=config["FunctionName"],
            code_dir=code_dir,
            handler=config["Handler"],
            timeout=int(config["Timeout"]),
            environment={k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()},
        )
    by_name = {f.name: f for f in functions.values()}
    sqs = aws.client("sqs")
    for mapping in lambda_client.list_event_source_mappings()["EventSourceMappings"]:
        # moto would poll the queue itself on every send and try to run the function in Docker, consuming receives;
        # the local driver is the poller here, so moto's own polling is switched off.
        lambda_client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
        function_name = mapping["FunctionArn"].rsplit(":", 1)[1]
        queue_name = mapping["EventSourceArn"].rsplit(":", 1)[1]
        by_name[function_name].event_sources.append(
            EventSource(
                queue_arn=mapping["EventSourceArn"],
                queue_url=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
                batch_size=int(mapping.get("BatchSize", 10)),
                report_batch_item_failures="ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", []),
            )
        )
    return functions


def _create_schedules(
    aws: LocalAws, template: dict[str, Any], resolver: IntrinsicResolver, functions: dict[str, LocalFunction]
) -> list[LocalSchedule]:
    scheduler = aws.client("scheduler")
    by_arn_name = {f.name: f.logical_id for f in functions.values()}
    schedules = []
    for _logical_id, resource in resources_of_type(template, "AWS::Scheduler::Schedule"):
        props = resolver.resolve(resource["Properties"])
        scheduler.create_schedule(
            Name=props["Name"],
            ScheduleExpression=props["ScheduleExpression"],
            FlexibleTimeWindow=props["FlexibleTimeWindow"],
            Target={k: v for k, v in props["Target"].items() if k in ("Arn", "RoleArn", "Input", "BackoffPolicy")},
        )
        function_name = props["Target"]["Arn"].rsplit(":", 1)[1]
        schedules.append(
            LocalSchedule(
                name=props["Name"],
                expression=props["ScheduleExpression"],
                target_function=by_arn_name[function_name],
                input=props["Target"].get("Input", "{}"),
            )
        )
    return schedules


_ALARM_API_FIELDS = (
    "AlarmDescription", "Namespace", "MetricName", "Dimensions", "Statistic", "Period", "EvaluationPeriods",
    "Threshold", "ComparisonOperator", "TreatMissingData", "AlarmActions", "Metrics",
)  # fmt: skip


def _create_alarms(aws: LocalAws, template: dict[str, Any], resolver: IntrinsicResolver, stack_name: str) -> list[str]:
    cloudwatch = aws.client("cloudwatch")
    names = []
    for logical_id, resource in resources_of_type(template, "AWS::CloudWatch::Alarm"):
        props = resolver.resolve(resource["Properties"])
        name = props.get("AlarmName", f"{stack_name}-{logical_id}")
        fields = {k: props[k] for k in _ALARM_API_FIELDS if k in props}
        cloudwatch.put_metric_alarm(AlarmName=name, **fields)
        names.append(name)
    return names


def skipped_resource_types() -> frozenset[str]:
    return SKIPPED_BY_MOTO
