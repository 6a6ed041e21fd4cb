"""A customer runs only with its own secret: named <prefix><customer_id> and tagged customer_id=<customer_id>.
Refused when written (mlc customer put) and when run (the stage pauses the customer with the reason)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from aws_lambda_powertools.utilities import parameters

from ml_connector.adapters.secrets import CustomerSecretsUnavailable, load_customer_secrets
from ml_connector.customers import Customer, customer_to_item
from ml_connector.kinds import Stage
from ml_connector.messages import WorkOrder
from ml_connector.state.models import RunState
from ml_local.session import LocalStack
from tests.support.customers import customer_item

VALUES = {"agent_key": "agent-key-0123456789", "avid_company_token": "ct", "avid_user_token": "ut"}


@pytest.fixture
def make_secret(stack: LocalStack) -> Callable[..., str]:
    def create(customer_id: str, *, tag: str | None) -> str:
        tags = [] if tag is None else [{"Key": "customer_id", "Value": tag}]
        created = stack.aws.client("secretsmanager").create_secret(
            Name=f"{stack.settings().secret_prefix}{customer_id}",
            KmsKeyId=stack.settings().connector_key_arn,
            SecretString=json.dumps(VALUES),
            Tags=tags,
        )
        return str(created["ARN"])

    return create


def _ids() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return f"victim-{suffix}", f"thief-{suffix}"


def _load(stack: LocalStack, customer: Customer) -> None:
    provider = parameters.SecretsProvider(boto3_client=stack.aws.client("secretsmanager"))
    load_customer_secrets(customer, secret_prefix=stack.settings().secret_prefix, provider=provider, max_age=0)


def test_another_customers_secret_is_refused_at_run(stack: LocalStack, make_secret: Callable[..., str]) -> None:
    victim, thief = _ids()
    victims_secret = make_secret(victim, tag=victim)
    thief_customer = Customer.model_validate(customer_item(thief, secret_arn=victims_secret))
    with pytest.raises(CustomerSecretsUnavailable, match=f"not customer {thief}'s own secret"):
        _load(stack, thief_customer)
    _load(stack, Customer.model_validate(customer_item(victim, secret_arn=victims_secret)))


def test_a_secret_named_for_the_customer_but_tagged_for_another_or_untagged_is_refused(
    stack: LocalStack, make_secret: Callable[..., str]
) -> None:
    victim, thief = _ids()
    for customer_id, tag in ((thief, victim), (victim, None)):
        arn = make_secret(customer_id, tag=tag)
        with pytest.raises(CustomerSecretsUnavailable, match="tagged customer_id="):
            _load(stack, Customer.model_validate(customer_item(customer_id, secret_arn=arn)))


def test_the_stage_refuses_to_run_and_says_why(stack: LocalStack, make_secret: Callable[..., str]) -> None:
    victim, thief = _ids()
    victims_secret = make_secret(victim, tag=victim)
    customer = Customer.model_validate(customer_item(thief, secret_arn=victims_secret))
    settings = stack.settings()
    stack.aws.resource("dynamodb").Table(settings.customers_table).put_item(Item=customer_to_item(customer))
    order = WorkOrder(customer_id=thief, stage=Stage.VENDORS, cycle_id="binding")
    stack.aws.client("sqs").send_message(
        QueueUrl=settings.work_queue_url(Stage.VENDORS),
        MessageBody=order.model_dump_json(),
        MessageGroupId=thief,
        MessageDeduplicationId=order.deduplication_id,
    )
    stack.driver.drain()
    run = stack.state_store().get_run(thief, Stage.VENDORS)
    assert run is not None and run.state is RunState.CUSTOMER_UNAVAILABLE
    assert run.message is not None and f"not customer {thief}'s own secret" in run.message
