"""template.yaml: logs kept and encrypted, data retained, IAM trimmed, prod alarms reach someone, and the optional
fixed egress address (both settings of FixedEgressAddress deploy)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from typing import Any

import pytest

from ml_local.session import LocalStack, local_stack
from ml_local.template import REPO_ROOT, load_sam_template, resources_of_type, translate

TEMPLATE = load_sam_template()
FUNCTIONS = [logical_id for logical_id, _ in resources_of_type(TEMPLATE, "AWS::Serverless::Function")]


@pytest.fixture(scope="module")
def cfn_template() -> dict[str, Any]:
    return translate(load_sam_template())


def test_every_function_logs_to_its_own_retained_encrypted_log_group() -> None:
    resources = TEMPLATE["Resources"]
    for logical_id in FUNCTIONS:
        group = resources[logical_id]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        props = resources[group]["Properties"]
        assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id
        assert props["KmsKeyId"] == {"Fn::GetAtt": ["ConnectorKey", "Arn"]}, logical_id


def test_the_key_and_both_data_tables_survive_a_stack_deletion_or_replacement() -> None:
    for logical_id in ("ConnectorKey", "CustomersTable", "StateTable"):
        resource = TEMPLATE["Resources"][logical_id]
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", logical_id


def _dynamodb_actions(cfn_template: dict[str, Any], function: str) -> set[str]:
    role = cfn_template["Resources"][f"{function}Role"]
    actions: set[str] = set()
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            actions |= {a for a in listed if a.startswith("dynamodb:")}
    return actions


def test_iam_grants_only_the_dynamodb_actions_each_function_uses(cfn_template: dict[str, Any]) -> None:
    assert _dynamodb_actions(cfn_template, "DispatcherFunction") == {
        "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem",
    }  # fmt: skip
    assert _dynamodb_actions(cfn_template, "PingFunction") == {"dynamodb:GetItem"}
    for function in FUNCTIONS:
        if function != "DispatcherFunction":
            assert "dynamodb:Scan" not in _dynamodb_actions(cfn_template, function), function


@pytest.mark.parametrize(
    "function",
    ["VendorsFunction", "GlFunction", "InvoicesFunction", "PaymentsFunction", "RetryFunction", "ReconcileFunction"],
)
def test_each_function_calling_avidconnect_may_take_turns_on_the_customers_call_schedule(
    cfn_template: dict[str, Any], function: str
) -> None:
    assert "dynamodb:UpdateItem" in _dynamodb_actions(cfn_template, function)


def test_prod_needs_an_alarm_email_and_samconfig_gives_one() -> None:
    rule = TEMPLATE["Rules"]["ProdAlarmsReachSomeone"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "EnvironmentName"}, "prod"]}
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = config["prod"]["deploy"]["parameters"]["parameter_overrides"]
    assert "AlarmEmail=" in overrides and 'AlarmEmail=""' not in overrides


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_each_environment_the_readme_names_can_be_deployed_with_config_env(environment: str) -> None:
    # `sam deploy --config-env dev` failed: samconfig.toml had no [dev] section.
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    deploy = config[environment]["deploy"]["parameters"]
    assert config[environment]["global"]["parameters"]["stack_name"] == f"ml-connector-{environment}"
    assert f"EnvironmentName={environment}" in deploy["parameter_overrides"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"


@pytest.fixture(scope="module")
def egress_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(tmp_path_factory.mktemp("egress"), parameters={"FixedEgressAddress": "true"}) as running:
        yield running


def test_fixed_egress_puts_every_function_behind_one_nat_address(egress_stack: LocalStack) -> None:
    address = egress_stack.stack.outputs["EgressAddress"]
    assert address.count(".") == 3
    lambda_client = egress_stack.aws.client("lambda")
    for function in egress_stack.stack.functions.values():
        vpc = lambda_client.get_function_configuration(FunctionName=function.name)["VpcConfig"]
        assert len(vpc["SubnetIds"]) == 2, function.logical_id
    ec2 = egress_stack.aws.client("ec2")
    (nat,) = ec2.describe_nat_gateways()["NatGateways"]
    assert nat["NatGatewayAddresses"][0]["PublicIp"] == address


def test_without_fixed_egress_there_is_no_vpc(stack: LocalStack) -> None:
    assert "EgressAddress" not in stack.stack.outputs
    assert "EgressVpc" not in stack.stack.physical_ids
