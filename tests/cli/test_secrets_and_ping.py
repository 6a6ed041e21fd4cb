"""mlc secrets put and mlc ping, against a live agent and AvidXchange simulator over HTTPS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from avid_sim.testing import RunningAvid, running_avid
from ml_cli.deployment import Deployment
from ml_connector.customers import Customer
from sage_agent.testing import RunningAgent, running_agent
from tests.cli.conftest import Mlc
from tests.reconcile.company import live_customer
from tests.support.customers import customer_item

AGENT_KEY = "cli-agent-key-0123456789"
COMPANY_TOKEN = "cli-company-token-abc"
USER_TOKEN = "cli-user-token-def"


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAgent]:
    with running_agent(tmp_path_factory.mktemp("agent"), seed="empty", agent_key=AGENT_KEY) as running:
        yield running


@pytest.fixture(scope="module")
def avid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAvid]:
    with running_avid(tmp_path_factory.mktemp("avid"), company_token=COMPANY_TOKEN, user_token=USER_TOKEN) as sim:
        yield sim


def secret_files(tmp_path: Path, agent_key: str) -> list[str]:
    args = []
    for option, value in (
        ("--agent-key-file", agent_key),
        ("--avid-company-token-file", COMPANY_TOKEN),
        ("--avid-user-token-file", USER_TOKEN),
    ):
        path = tmp_path / option.strip("-")
        path.write_text(value + "\n", encoding="utf-8")
        args += [option, str(path)]
    return args


def test_secrets_put_encrypts_with_the_connector_key_and_never_prints_values(
    mlc: Mlc, deployment: Deployment, tmp_path: Path, customer_id: str
) -> None:
    result = mlc("secrets", "put", customer_id, *secret_files(tmp_path, AGENT_KEY))

    assert result.code == 0, result.err
    for value in (AGENT_KEY, COMPANY_TOKEN, USER_TOKEN):
        assert value not in result.out + result.err
    arn = result.out.splitlines()[0]
    client = deployment.client("secretsmanager")
    described = client.describe_secret(SecretId=arn)
    assert described["Name"] == f"{deployment.secret_prefix}{customer_id}"
    assert described["KmsKeyId"] == deployment.connector_key_arn
    stored = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    assert stored == {"agent_key": AGENT_KEY, "avid_company_token": COMPANY_TOKEN, "avid_user_token": USER_TOKEN}
    assert "no customer item" in result.out


def test_secrets_put_from_the_environment_updates_the_secret_and_the_customer_item(
    mlc: Mlc, deployment: Deployment, tmp_path: Path, customer_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = mlc("secrets", "put", customer_id, *secret_files(tmp_path, "old-agent-key-000"))
    deployment.customers().put(Customer.model_validate(customer_item(customer_id)))
    monkeypatch.setenv("MLC_AGENT_KEY", AGENT_KEY)
    monkeypatch.setenv("MLC_AVID_COMPANY_TOKEN", COMPANY_TOKEN)
    monkeypatch.setenv("MLC_AVID_USER_TOKEN", USER_TOKEN)

    second = mlc("secrets", "put", customer_id, "--json")

    assert second.code == 0, second.err
    assert AGENT_KEY not in second.out + second.err
    reported = json.loads(second.out)
    assert reported["secret_arn"] == first.out.splitlines()[0]
    assert reported["customer_updated"] is True
    stored = json.loads(
        deployment.client("secretsmanager").get_secret_value(SecretId=reported["secret_arn"])["SecretString"]
    )
    assert stored["agent_key"] == AGENT_KEY
    customer = deployment.customers().get(customer_id)
    assert isinstance(customer, Customer)
    assert customer.secret_arn == reported["secret_arn"]


def test_secrets_put_without_values_is_bad_input(mlc: Mlc, customer_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MLC_AGENT_KEY", "MLC_AVID_COMPANY_TOKEN", "MLC_AVID_USER_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    result = mlc("secrets", "put", customer_id)

    assert result.code == 2
    assert len(result.err.splitlines()) == 1
    assert "--agent-key-file FILE or $MLC_AGENT_KEY" in result.err


def test_secrets_put_rejects_a_short_agent_key_without_echoing_it(mlc: Mlc, tmp_path: Path, customer_id: str) -> None:
    result = mlc("secrets", "put", customer_id, *secret_files(tmp_path, "short"))

    assert result.code == 2
    assert "agent_key" in result.err
    assert "short" not in result.err.replace("agent_key", "")


def configure(mlc: Mlc, deployment: Deployment, tmp_path: Path, customer: Customer, agent_key: str) -> None:
    deployment.customers().put(customer)
    assert mlc("secrets", "put", customer.customer_id, *secret_files(tmp_path, agent_key)).code == 0


def test_ping_checks_both_systems_with_the_customers_credentials(
    mlc: Mlc, deployment: Deployment, tmp_path: Path, customer_id: str, agent: RunningAgent, avid: RunningAvid
) -> None:
    configure(mlc, deployment, tmp_path, live_customer(customer_id, agent, avid), AGENT_KEY)

    text = mlc("ping", customer_id)
    as_json = mlc("ping", customer_id, "--json")

    assert text.code == 0, text.out + text.err
    assert f"ping {customer_id}: ok" in text.out
    assert any(line.startswith("agent") and " ok " in line and "company RCC" in line for line in text.out.splitlines())
    assert any(line.startswith("avid") and " ok " in line for line in text.out.splitlines())
    report = json.loads(as_json.out)
    assert report["ok"] is True
    assert report["agent"]["ok"] is True
    assert report["avid"]["ok"] is True


def test_ping_with_a_wrong_agent_key_reports_the_agent_check_failed(
    mlc: Mlc, deployment: Deployment, tmp_path: Path, customer_id: str, agent: RunningAgent, avid: RunningAvid
) -> None:
    configure(mlc, deployment, tmp_path, live_customer(customer_id, agent, avid), "wrong-agent-key-000")

    result = mlc("ping", customer_id, "--json")

    assert result.code == 1
    report = json.loads(result.out)
    assert report["ok"] is False
    assert report["agent"]["ok"] is False
    assert report["avid"]["ok"] is True
    assert "wrong-agent-key-000" not in result.out + result.err
