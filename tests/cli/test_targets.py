"""Target selection: --local PATH, --stack NAME (resolved through CloudFormation; moto stands in for AWS here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_cli.__main__ import main
from ml_cli.deployment import Deployment
from ml_connector.customers import Customer
from ml_local.session import LocalStack
from tests.support.customers import customer_item


def test_a_missing_stack_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["status", "--local", str(tmp_path / "nowhere" / "stack.json")])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "no local stack described at" in err
    assert "ml-local up" in err


def test_a_command_without_a_target_says_how_to_give_one(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["failures"])

    assert code == 2
    assert "--local [PATH]" in capsys.readouterr().err


def test_local_and_stack_together_are_refused(stack_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["status", "--stack", "ml-connector-prod", "--local", str(stack_file)])

    assert code == 2
    assert "exclude each other" in capsys.readouterr().err


@pytest.fixture
def aws_pointing_at_moto(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in stack.aws.environment().items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("aws_pointing_at_moto")
def test_stack_resolves_resources_from_the_cloudformation_outputs(
    stack: LocalStack, deployment: Deployment, customer_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment.customers().put(Customer.model_validate(customer_item(customer_id)))

    code = main(["customer", "show", customer_id, "--stack", stack.stack.stack_name, "--region", "us-east-1"])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["customer_id"] == customer_id


@pytest.mark.usefixtures("aws_pointing_at_moto")
def test_an_unknown_stack_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["status", "--stack", "no-such-stack", "--region", "us-east-1"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "no-such-stack" in err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = [
        ["customer", "put"],
        ["customer", "validate"],
        ["customer", "show"],
        ["customer", "list"],
        ["customer", "enable"],
        ["customer", "disable"],
        ["customer", "schema"],
        ["secrets", "put"],
        ["ping"],
        ["run"],
        ["status"],
        ["failures"],
        ["audit"],
        ["replay"],
        ["dlq"],
    ]
    for command in commands:
        assert main([*command, "--help"]) == 0
        assert capsys.readouterr().out.startswith(f"usage: mlc {' '.join(command)}")


def test_a_stack_file_that_is_not_a_stack_description_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stack.json"
    path.write_text('{"endpoint_url": "http://127.0.0.1:1"}', encoding="utf-8")

    code = main(["dlq", f"--local={path}"])

    assert code == 2
    assert "is not a local stack description" in capsys.readouterr().err
