"""The CLI runs in-process (``main(argv)``) against the session's local stack, through its stack.json."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ml_cli.__main__ import main
from ml_cli.deployment import Deployment, local_deployment
from ml_connector.kinds import Stage
from ml_connector.messages import RecordRetry
from ml_local.session import STATE_FILE_NAME, LocalStack


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


Mlc = Callable[..., CliResult]


@pytest.fixture(scope="session")
def stack_file(stack: LocalStack) -> Path:
    return stack.work_dir / STATE_FILE_NAME


@pytest.fixture(scope="session")
def deployment(stack_file: Path) -> Deployment:
    return local_deployment(stack_file)


@pytest.fixture
def mlc(stack_file: Path, capsys: pytest.CaptureFixture[str]) -> Mlc:
    """``mlc("status", "acme")`` runs ``main`` with ``--local <stack.json>`` appended (``target=False``: without)."""

    def run(*argv: str, target: bool = True) -> CliResult:
        capsys.readouterr()
        code = main([*argv, "--local", str(stack_file)] if target else list(argv))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def customer_id() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


def _remove_messages(deployment: Deployment, queue_url: str, customer_ids: set[str]) -> None:
    """Delete the given customers' messages from a queue the whole session shares; release everyone else's."""
    sqs = deployment.client("sqs")
    others: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            if any(f'"customer_id":"{c}"' in message["Body"] for c in customer_ids):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:
                others.append(message["ReceiptHandle"])
    for handle in others:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)


@pytest.fixture
def queue_cleanup(deployment: Deployment) -> Iterator[set[str]]:
    """Add customer ids to the yielded set; their messages leave every queue the CLI touches after the test."""
    customer_ids: set[str] = set()
    yield customer_ids
    if customer_ids:
        urls = [deployment.record_dlq_url, deployment.retry_queue_url]
        urls += [deployment.work_queue_url(stage) for stage in Stage]
        for url in urls:
            _remove_messages(deployment, url, customer_ids)


def dead_letter(deployment: Deployment, retry: RecordRetry) -> None:
    deployment.client("sqs").send_message(QueueUrl=deployment.record_dlq_url, MessageBody=retry.model_dump_json())
