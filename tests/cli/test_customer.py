"""mlc customer put|validate|show|list|enable|disable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ml_cli.deployment import Deployment
from ml_connector.customers import Customer
from tests.cli.conftest import Mlc
from tests.support.customers import customer_item


def write_item(tmp_path: Path, item: dict[str, Any]) -> Path:
    path = tmp_path / f"{item['customer_id']}.json"
    path.write_text(json.dumps(item), encoding="utf-8")
    return path


def test_put_writes_a_valid_customer_and_show_prints_it(
    mlc: Mlc, deployment: Deployment, tmp_path: Path, customer_id: str
) -> None:
    result = mlc("customer", "put", str(write_item(tmp_path, customer_item(customer_id))))

    assert result.code == 0, result.err
    assert f"create it with `mlc secrets put {customer_id}`" in result.out
    stored = deployment.customers().get(customer_id)
    assert isinstance(stored, Customer)
    assert stored.display_name == f"Test customer {customer_id}"
    shown = mlc("customer", "show", customer_id)
    assert shown.code == 0
    assert json.loads(shown.out)["agent"]["company"] == "RCC"


def test_put_with_a_bad_company_code_names_the_field_and_writes_nothing(
    mlc: Mlc, deployment: Deployment, tmp_path: Path, customer_id: str
) -> None:
    item = customer_item(customer_id, agent={"base_url": "https://127.0.0.1:9443", "company": "rcc"})

    result = mlc("customer", "put", str(write_item(tmp_path, item)))

    assert result.code == 2
    lines = result.err.splitlines()
    assert len(lines) == 1
    assert "agent.company" in lines[0]
    assert "Traceback" not in result.err
    assert deployment.customers().get(customer_id) is None


def test_put_reports_every_invalid_field_on_its_own_line(mlc: Mlc, tmp_path: Path, customer_id: str) -> None:
    item = customer_item(customer_id, bank_code="bank", cost_center_segment=12)

    result = mlc("customer", "put", str(write_item(tmp_path, item)))

    assert result.code == 2
    lines = result.err.splitlines()
    assert len(lines) == 2
    assert any("bank_code:" in line for line in lines)
    assert any("cost_center_segment:" in line for line in lines)


def test_put_refuses_a_secret_outside_the_deployments_prefix(
    mlc: Mlc, deployment: Deployment, tmp_path: Path, customer_id: str
) -> None:
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:someone-else/{customer_id}-AbCdEf"

    result = mlc("customer", "put", str(write_item(tmp_path, customer_item(customer_id, secret_arn=arn))))

    assert result.code == 2
    assert "secret_arn" in result.err
    assert deployment.customers().get(customer_id) is None


def test_validate_needs_no_target_and_reports_bad_json(mlc: Mlc, tmp_path: Path, customer_id: str) -> None:
    good = mlc("customer", "validate", str(write_item(tmp_path, customer_item(customer_id))), target=False)
    broken = tmp_path / "broken.json"
    broken.write_text('{"customer_id": ', encoding="utf-8")
    bad = mlc("customer", "validate", str(broken), target=False)
    missing = mlc("customer", "validate", str(tmp_path / "absent.json"), target=False)

    assert good.code == 0
    assert customer_id in good.out
    assert bad.code == 2
    assert "not JSON" in bad.err
    assert missing.code == 2
    assert "no such file" in missing.err


def test_list_shows_valid_and_invalid_items(mlc: Mlc, deployment: Deployment, customer_id: str) -> None:
    broken_id = f"{customer_id}-x"
    deployment.customers().put(Customer.model_validate(customer_item(customer_id)))
    deployment.resource("dynamodb").Table(deployment.customers_table).put_item(
        Item=customer_item(broken_id, bank_code="bank")
    )

    text = mlc("customer", "list")
    as_json = mlc("customer", "list", "--json")

    assert text.code == 0
    assert any(line.startswith(customer_id) and "enabled" in line for line in text.out.splitlines())
    broken_line = next(line for line in text.out.splitlines() if line.startswith(broken_id))
    assert "INVALID" in broken_line
    assert "bank_code" in broken_line
    listed = json.loads(as_json.out)
    assert customer_id in {c["customer_id"] for c in listed["valid"]}
    assert broken_id in {c["customer_id"] for c in listed["invalid"]}


def test_disable_and_enable(mlc: Mlc, deployment: Deployment, customer_id: str) -> None:
    deployment.customers().put(Customer.model_validate(customer_item(customer_id)))

    assert mlc("customer", "disable", customer_id).code == 0
    disabled = deployment.customers().get(customer_id)
    assert mlc("customer", "enable", customer_id).code == 0
    enabled = deployment.customers().get(customer_id)

    assert isinstance(disabled, Customer)
    assert disabled.enabled is False
    assert isinstance(enabled, Customer)
    assert enabled.enabled is True


def test_show_of_an_unknown_customer_fails_in_one_line(mlc: Mlc, customer_id: str) -> None:
    result = mlc("customer", "show", customer_id)

    assert result.code == 1
    assert len(result.err.splitlines()) == 1
    assert result.err.startswith(f"mlc: error: no customer {customer_id} in ")


def test_a_malformed_customer_id_is_bad_input(mlc: Mlc) -> None:
    result = mlc("customer", "show", "Not An Id")

    assert result.code == 2
    assert len(result.err.splitlines()) == 1
