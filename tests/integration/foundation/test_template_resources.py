"""template.yaml deploys into moto server mode, and what the code relies on exists in it."""

from __future__ import annotations

from typing import Any

import pytest

from ml_connector.kinds import Stage
from ml_connector.settings import FunctionSettings
from ml_connector.state.dynamodb import FAILURES_INDEX
from ml_local.session import LocalStack
from ml_local.template import load_sam_template, resources_of_type, translate

EXPECTED_FUNCTIONS = {
    "DispatcherFunction", "VendorsFunction", "GlFunction", "InvoicesFunction", "PaymentsFunction", "RetryFunction",
    "PingFunction", "ReconcileFunction",
}  # fmt: skip


@pytest.fixture(scope="module")
def cfn_template() -> dict[str, Any]:
    return translate(load_sam_template())


def test_every_function_is_deployed_with_settings_that_validate(stack: LocalStack) -> None:
    assert set(stack.stack.functions) == EXPECTED_FUNCTIONS
    for function in stack.stack.functions.values():
        settings = FunctionSettings.from_environment(function.environment)
        assert settings.environment_name == "dev", function.logical_id


def test_function_environment_names_resources_that_exist(stack: LocalStack) -> None:
    dynamodb = stack.aws.client("dynamodb")
    sqs = stack.aws.client("sqs")
    kms = stack.aws.client("kms")
    for function in stack.stack.functions.values():
        settings = FunctionSettings.from_environment(function.environment)
        for table in (settings.customers_table, settings.state_table, settings.idempotency_table):
            assert dynamodb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"
        for url in [settings.retry_queue_url, *(settings.work_queue_url(stage) for stage in Stage)]:
            assert "QueueArn" in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        assert kms.describe_key(KeyId=settings.connector_key_arn)["KeyMetadata"]["Enabled"]


def test_state_table_has_the_keys_index_and_ttl_the_code_uses(stack: LocalStack) -> None:
    dynamodb = stack.aws.client("dynamodb")
    settings = FunctionSettings.from_environment(stack.stack.function("VendorsFunction").environment)
    table = dynamodb.describe_table(TableName=settings.state_table)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == FAILURES_INDEX
    assert {k["AttributeName"] for k in index["KeySchema"]} == {"gsi1pk", "gsi1sk"}
    ttl = dynamodb.describe_time_to_live(TableName=settings.state_table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    customers = dynamodb.describe_table(TableName=settings.customers_table)["Table"]
    assert customers["KeySchema"] == [{"AttributeName": "customer_id", "KeyType": "HASH"}]
    idempotency = dynamodb.describe_table(TableName=settings.idempotency_table)["Table"]
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]  # Powertools' default key


def test_every_table_and_queue_is_encrypted_with_the_connector_key(cfn_template: dict[str, Any]) -> None:
    for logical_id, table in resources_of_type(cfn_template, "AWS::DynamoDB::Table"):
        sse = table["Properties"]["SSESpecification"]
        assert sse["SSEEnabled"] and sse["KMSMasterKeyId"] == {"Ref": "ConnectorKey"}, logical_id
        assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], logical_id
    for logical_id, queue in resources_of_type(cfn_template, "AWS::SQS::Queue", "AWS::SNS::Topic"):
        assert queue["Properties"]["KmsMasterKeyId"] == {"Ref": "ConnectorKey"}, logical_id


def test_queue_visibility_is_six_times_the_consuming_function_timeout(cfn_template: dict[str, Any]) -> None:
    resources = cfn_template["Resources"]
    mappings = list(resources_of_type(cfn_template, "AWS::Lambda::EventSourceMapping"))
    assert len(mappings) == 6
    for logical_id, mapping in mappings:
        queue_id = mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        function_id = mapping["Properties"]["FunctionName"]["Ref"]
        visibility = resources[queue_id]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * resources[function_id]["Properties"]["Timeout"], logical_id
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], logical_id
        assert "RedrivePolicy" in resources[queue_id]["Properties"], queue_id


def test_work_queues_are_fifo(cfn_template: dict[str, Any]) -> None:
    for name in ("VendorsQueue", "GlQueue", "InvoicesQueue", "PaymentsQueue", "ReconcileQueue", "WorkDeadLetterQueue"):
        assert cfn_template["Resources"][name]["Properties"]["FifoQueue"] is True


def _policy_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def test_functions_read_only_secrets_under_the_connector_prefix(cfn_template: dict[str, Any]) -> None:
    for logical_id, role in resources_of_type(cfn_template, "AWS::IAM::Role"):
        for statement in _policy_statements(role):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith("secretsmanager:") for a in actions):
                assert actions == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], logical_id
                assert statement["Resource"]["Fn::Sub"].endswith(":secret:ml-connector/${EnvironmentName}/customers/*")
            assert "*" not in actions, logical_id


def test_dispatcher_cannot_touch_the_retry_queue_or_secrets(cfn_template: dict[str, Any]) -> None:
    role = cfn_template["Resources"]["DispatcherFunctionRole"]
    statements = _policy_statements(role)
    assert "secretsmanager" not in repr(statements)
    for statement in statements:
        if "RetryQueue" in repr(statement["Resource"]):
            assert statement["Action"] == "sqs:GetQueueAttributes"  # the backlog metric; it never sends there


def test_resources_moto_skips_are_created_by_the_local_stack(stack: LocalStack) -> None:
    schedules = stack.aws.client("scheduler").list_schedules()["Schedules"]
    assert [s["Name"] for s in schedules] == ["ml-connector-dev-dispatch"]
    assert stack.stack.schedules[0].target_function == "DispatcherFunction"
    alarms = {a["AlarmName"] for a in stack.aws.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert {f"ml-connector-local-{n}" for n in ("RecordDeadLetterAlarm", "WorkDeadLetterAlarm")} <= alarms
    dashboards = stack.aws.client("cloudwatch").list_dashboards()["DashboardEntries"]
    assert [d["DashboardName"] for d in dashboards] == ["ml-connector-dev"]
