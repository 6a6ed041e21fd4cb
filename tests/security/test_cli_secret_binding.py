"""mlc writes a customer only with its own secret, and tags the secrets it stores."""

from __future__ import annotations

import json
from pathlib import Path

from ml_cli.deployment import Deployment
from tests.cli.conftest import Mlc
from tests.support.customers import customer_item


def test_put_refuses_a_customer_item_naming_another_customers_secret(
    mlc: Mlc, deployment: Deployment, tmp_path: Path, customer_id: str
) -> None:
    other = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{deployment.secret_prefix}someone-else-AbCdEf"
    path = tmp_path / "item.json"
    path.write_text(json.dumps(customer_item(customer_id, secret_arn=other)), encoding="utf-8")

    result = mlc("customer", "put", str(path))

    assert result.code == 2
    assert f"not customer {customer_id}'s own secret" in result.err
    assert deployment.customers().get(customer_id) is None


def test_secrets_put_tags_the_secret_with_its_customer(
    mlc: Mlc, deployment: Deployment, tmp_path: Path, customer_id: str
) -> None:
    files = []
    for option, value in (("--agent-key-file", "agent-key-0123456789"), ("--avid-company-token-file", "c"),
                          ("--avid-user-token-file", "u")):  # fmt: skip
        path = tmp_path / option.strip("-")
        path.write_text(value, encoding="utf-8")
        files += [option, str(path)]

    result = mlc("secrets", "put", customer_id, *files)

    assert result.code == 0, result.err
    tags = deployment.client("secretsmanager").describe_secret(SecretId=result.out.splitlines()[0])["Tags"]
    assert {"Key": "customer_id", "Value": customer_id} in tags
