"""Chaos scenarios on the local stack: full cycles (vendors, gl, invoices, payments) of a company under attack, then
recovery and replay, then the truth from both systems (``tests.chaos.truth``).

Every scenario runs the same story with its own customer:
  1. the attack is armed; cycle 1 (first sync); AvidXchange users approve and pay some invoices; cycle 2;
  2. the attack ends (faults off, crash rules disarmed, credentials restored): *before* is what both systems hold;
  3. recovery: a calm cycle, ``mlc replay`` of the customer's dead letters, another calm cycle: *after*.
The row reports *after* (lost, doubled, wrong) and how many records missing *before* arrived *after*.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avid_sim.errors import AvidApiError
from avid_sim.models import InvoiceStatus, PaymentStatus
from avid_sim.testing import running_avid
from ml_cli.__main__ import main as mlc
from ml_cli.dead_letters import ReplaySelection, send_retries, stranded_failures
from ml_cli.dead_letters import replay_dead_letters as replay_from_dlq
from ml_connector.kinds import Stage
from ml_local.driver import LocalDriver
from ml_local.session import STATE_FILE_NAME, LocalStack
from sage_agent.simulated.generator import CompanyShape
from sage_agent.testing import running_agent
from tests.chaos.truth import find_secrets, inspect_systems, rows
from tests.support.crashes import arm_crash, disarm, fired_crashes
from tests.support.system import AGENT_KEY, ConnectedCustomer, configure_customer

CYCLE = (Stage.GL, Stage.INVOICES, Stage.PAYMENTS)
STAGE_FUNCTIONS = ("VendorsFunction", "GlFunction", "InvoicesFunction", "PaymentsFunction", "RetryFunction")
PAYMENTS_TO_MAKE = 8


@dataclass
class Attack:
    """What a scenario does to the systems; ``arm`` before cycle 1, ``after_payments_made`` once payments exist."""

    arm: Callable[[Chaos], None]
    after_payments_made: Callable[[Chaos], None] = lambda chaos: None
    retry_concurrency: int = 2
    retry_batch_size: int | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    attack: Attack
    avid_page_size: int | None = None


@dataclass
class Chaos:
    """A scenario's running world: the customer with both systems, the driver, the fault share, a seeded rng."""

    system: ConnectedCustomer
    driver: LocalDriver
    share: float
    rng: random.Random
    agent_faults: list[str] = field(default_factory=list)
    secret_backup: str | None = None
    payments: list[str] = field(default_factory=list)

    def faults_fired(self) -> int:
        crashes = sum(len(fired_crashes(self.driver.runtime, f)) for f in STAGE_FUNCTIONS)
        return len(self.agent_faults) + len(self.system.avid.controls.faults.fired) + crashes


@dataclass
class Row:
    scenario: str
    records: int
    faults: int
    lost: list[str]
    doubled: list[str]
    wrong: list[str]
    leaks: list[str]
    recovered: int
    unexplained_before: list[str]
    """Missing before recovery with no open failure: what an operator could not have known about."""

    def line(self) -> str:
        return (
            f"{self.scenario:<26} {self.records:>7} {self.faults:>6} {len(self.lost):>5} {len(self.doubled):>7}"
            f" {len(self.wrong):>5} {len(self.leaks):>5} {self.recovered:>9}"
        )

    def details(self) -> list[str]:
        named = {"lost": self.lost, "doubled": self.doubled, "wrong": self.wrong, "secret in": self.leaks}
        named["silently missing before recovery"] = self.unexplained_before
        return [f"  {self.scenario}: {label} {item}" for label, items in named.items() for item in items[:20]]


HEADER = (
    f"{'scenario':<26} {'records':>7} {'faults':>6} {'lost':>5} {'doubled':>7} {'wrong':>5} {'leaks':>5}"
    f" {'recovered':>9}"
)


# --- attacks ------------------------------------------------------------------------------------------------------


def _count_agent_faults(chaos: Chaos) -> None:
    controller = chaos.system.agent.faults
    original = controller.before_call

    def counted(endpoint: str) -> None:
        try:
            original(endpoint)
        except Exception:
            chaos.agent_faults.append(endpoint)
            raise

    controller.before_call = counted  # type: ignore[method-assign]


def faults_on_both_systems(chaos: Chaos) -> None:
    """423/503/500 from the agent; 429, 5xx, timeouts and dropped connections from AvidXchange, the 5xx, timeouts
    and drops of writes carried out before the answer is lost."""
    share = chaos.share
    chaos.system.agent.faults.set_failure_shares(locked=share / 3, busy=share / 3, error=share / 3, retry_after=0)
    controls = chaos.system.avid.controls
    controls.inject("rate_limit", share=share / 4, retry_after=0)
    controls.inject("server_error", share=share / 4, status=502, processed=True)
    controls.inject("timeout", share=share / 4, hold_seconds=2, processed=True)
    controls.inject("drop", share=share / 4, processed=True)


def crashes_at_named_points(chaos: Chaos) -> None:
    """Each stage function dies once or twice: after a remote write before the state write, mid-page, mid-image,
    at the time budget."""
    runtime = chaos.driver.runtime
    arm_crash(runtime, "VendorsFunction", "budget.check", at=2)
    arm_crash(runtime, "GlFunction", "record.done", at=chaos.rng.randint(3, 30))
    arm_crash(runtime, "InvoicesFunction", "invoice.created", at=chaos.rng.randint(2, 9))
    arm_crash(runtime, "InvoicesFunction", "invoice.image_chunk", at=chaos.rng.randint(10, 40))
    arm_crash(runtime, "PaymentsFunction", "payment.posted", at=chaos.rng.randint(1, 3))
    arm_crash(runtime, "RetryFunction", "invoice.image_uploaded", at=1)


def concurrent_retry_workers(chaos: Chaos) -> None:
    """Invoice creates fail often, answers lost after the write; four retry workers take one record each at once."""
    controls = chaos.system.avid.controls
    controls.inject("server_error", share=min(1.0, chaos.share * 3), endpoint=("POST", "/v1/invoices"), processed=True)
    controls.inject("drop", share=min(1.0, chaos.share * 2), endpoint=("POST", "/v1/invoices/{Id}/image"))


def payments_change_while_paged(chaos: Chaos) -> None:
    """Nothing before the payments exist."""


def change_payments_between_page_reads(chaos: Chaos) -> None:
    state = chaos.system.avid.state
    sent = sorted(
        (p for p in state.payments.values() if p.status is PaymentStatus.SENT), key=lambda p: p.last_modified_date
    )
    if sent:
        chaos.system.avid.controls.change_payment_after_page(sent[0].payment_id, PaymentStatus.CLEARED, after_page=1)
    if len(sent) > 3:
        chaos.system.avid.controls.change_payment_after_page(sent[3].payment_id, PaymentStatus.VOID, after_page=2)


def agent_offline_and_tokens_rejected(chaos: Chaos) -> None:
    """The agent answers 503 to everything for cycle 1; AvidXchange rejects the stored tokens for cycle 2."""
    chaos.system.agent.faults.set_failure_shares(busy=1.0, retry_after=0)


def reject_tokens(chaos: Chaos) -> None:
    chaos.system.agent.faults.reset()
    secrets = chaos.system.stack.aws.client("secretsmanager")
    arn = chaos.system.customer.secret_arn
    chaos.secret_backup = secrets.get_secret_value(SecretId=arn)["SecretString"]
    rotated = {**json.loads(chaos.secret_backup), "avid_company_token": "rotated-and-wrong-0000"}
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps(rotated))


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("faults-on-both-systems", Attack(faults_on_both_systems)),
        Scenario("crashes-at-named-points", Attack(crashes_at_named_points)),
        Scenario(
            "concurrent-retry-workers",
            Attack(concurrent_retry_workers, retry_concurrency=4, retry_batch_size=1),
        ),
        Scenario(
            "payments-change-while-paged",
            Attack(payments_change_while_paged, after_payments_made=change_payments_between_page_reads),
            avid_page_size=2,
        ),
        Scenario(
            "agent-offline-tokens-rejected",
            Attack(agent_offline_and_tokens_rejected, after_payments_made=reject_tokens),
        ),
    )
}


# --- the story ----------------------------------------------------------------------------------------------------


@contextmanager
def chaos_customer(
    stack: LocalStack, work_dir: Path, customer_id: str, shape: CompanyShape | None
) -> Iterator[ConnectedCustomer]:
    with (
        running_agent(work_dir, seed=shape or "demo", agent_key=AGENT_KEY) as agent,
        running_avid(
            work_dir, company_token=f"{customer_id}-company-token", user_token=f"{customer_id}-user-token"
        ) as avid,
    ):
        customer = configure_customer(stack, agent, avid, customer_id)
        yield ConnectedCustomer(stack, agent, avid, customer)


@contextmanager
def chaos_driver(stack: LocalStack, attack: Attack) -> Iterator[LocalDriver]:
    functions = dict(stack.stack.functions)
    if attack.retry_batch_size is not None:
        retry = functions["RetryFunction"]
        sources = [dataclasses.replace(s, batch_size=attack.retry_batch_size) for s in retry.event_sources]
        functions["RetryFunction"] = dataclasses.replace(retry, event_sources=sources)
    with stack.variant(functions, concurrency={"RetryFunction": attack.retry_concurrency}) as driver:
        yield driver


def run_cycle(chaos: Chaos, cycle_id: str) -> None:
    chaos.system.agent.clock.advance(dt.timedelta(minutes=20))
    chaos.system.queue(Stage.VENDORS, cycle_id=cycle_id, then=CYCLE)
    chaos.driver.drain(max_rounds=2000)


def make_payments(chaos: Chaos) -> None:
    """AvidXchange users approve invoices and pay them, a vendor's invoices together; a few are cleared, one stays
    Processing (not settled: never posted)."""
    controls, state = chaos.system.avid.controls, chaos.system.avid.state
    by_vendor: dict[str, list[str]] = {}
    for invoice in list(state.invoices.values()):
        vendor = state.vendors.get(invoice.vendor_external_code)
        if invoice.status is InvoiceStatus.RECEIVED and vendor is not None and vendor.active:
            by_vendor.setdefault(invoice.vendor_external_code, []).append(invoice.id)
    statuses = [PaymentStatus.SENT, PaymentStatus.CLEARED, PaymentStatus.SENT, PaymentStatus.PROCESSING]
    for number, ids in enumerate(list(by_vendor.values())[:PAYMENTS_TO_MAKE]):
        chosen = ids[: 1 + number % 3]
        try:
            for invoice_id in chosen:
                controls.start_approval(invoice_id)
                controls.approve(invoice_id)
            method = ("Check", "ACH", "VirtualCard")[number % 3]
            payment = controls.pay(chosen, method=method, status=statuses[number % len(statuses)])
        except AvidApiError:
            continue
        chaos.payments.append(payment.payment_id)


def calm(chaos: Chaos) -> None:
    chaos.system.agent.faults.reset()
    chaos.system.avid.controls.reset_faults()
    for function in STAGE_FUNCTIONS:
        disarm(chaos.driver.runtime, function)
    if chaos.secret_backup is not None:
        chaos.system.stack.aws.client("secretsmanager").put_secret_value(
            SecretId=chaos.system.customer.secret_arn, SecretString=chaos.secret_backup
        )


def replay_customer(chaos: Chaos) -> int:
    """``mlc replay --customer``: the customer's record dead letters back to the retry queue, and every other open
    failure no queue holds (refused, flagged) queued again by key."""
    outputs = chaos.system.stack.stack.outputs
    sqs = chaos.system.stack.aws.client("sqs")
    selection = ReplaySelection(customer_id=chaos.system.customer_id)
    outcome = replay_from_dlq(
        sqs,
        dlq_url=outputs["RecordDeadLetterQueueUrl"],
        target_url=outputs["RetryQueueUrl"],
        selection=selection,
        wait_seconds=0,
    )
    now = dt.datetime.now(dt.UTC)
    failures = chaos.system.state.list_failures(chaos.system.customer_id)
    stranded = stranded_failures(failures, selection, moved=outcome.replayed, now=now)
    return int(outcome.moved) + len(send_retries(sqs, outputs["RetryQueueUrl"], stranded, now))


def run_scenario(
    stack: LocalStack,
    work_dir: Path,
    scenario: Scenario,
    *,
    share: float = 0.1,
    shape: CompanyShape | None = None,
    seed: int = 4242,
) -> Row:
    customer_id = f"chaos-{scenario.name}"[:40].rstrip("-")
    (work_dir / scenario.name).mkdir(parents=True, exist_ok=True)
    with (
        chaos_customer(stack, work_dir / scenario.name, customer_id, shape) as system,
        chaos_driver(stack, scenario.attack) as driver,
    ):
        if scenario.avid_page_size is not None:
            system.update_customer(avid=system.customer.avid.model_copy(update={"page_size": scenario.avid_page_size}))
        chaos = Chaos(system, driver, share, random.Random(seed))
        _count_agent_faults(chaos)
        scenario.attack.arm(chaos)
        run_cycle(chaos, "chaos-1")
        make_payments(chaos)
        scenario.attack.after_payments_made(chaos)
        run_cycle(chaos, "chaos-2")
        faults = chaos.faults_fired()
        calm(chaos)
        before = inspect_systems(system)
        run_cycle(chaos, "recover-1")
        replay_customer(chaos)
        driver.drain(max_rounds=2000)
        run_cycle(chaos, "recover-2")
        after = inspect_systems(system)
        after.leaks = leaked_secrets(chaos)
        return Row(
            scenario=scenario.name,
            records=after.records,
            faults=faults,
            lost=after.lost,
            doubled=after.doubled,
            wrong=after.wrong,
            leaks=after.leaks,
            recovered=len(before.missing - after.missing),
            unexplained_before=before.lost,
        )


def leaked_secrets(chaos: Chaos) -> list[str]:
    """The customer's secrets and sensitive data in clear in any function log line, state item (audit trail
    included), queue message (retry queue and DLQ) or operator CLI output: the agent key, both tokens, vendors' tax
    ids, ACH trace numbers, and a virtual card's expiry (its last four travel only to Sage's Reference field)."""
    system = chaos.system
    secrets = [AGENT_KEY, system.avid.company_token, system.avid.user_token, "rotated-and-wrong-0000"]
    secrets += [
        row["TaxpayerIDSocialSecurityNo"] for row in rows(system.agent.backend.db_path, "SELECT * FROM vendors")
    ]
    for payment in system.avid.state.payments.values():
        if payment.ach_trace_number:
            secrets.append(payment.ach_trace_number)
        if payment.virtual_card is not None:
            card = payment.virtual_card
            secrets += [f"{card.expiration_month:02d}/{card.expiration_year}", "ExpirationYear", "expiration_year"]
    texts = [*_everything_written(system.stack), *_cli_outputs(chaos)]
    return find_secrets(texts, [s for s in secrets if len(s.strip()) >= 4])


def _cli_outputs(chaos: Chaos) -> Iterator[tuple[str, str]]:
    """What an operator sees of the customer: status, failures, every failed record's audit, the DLQ."""
    customer_id = chaos.system.customer_id
    stack_file = str(chaos.system.stack.work_dir / STATE_FILE_NAME)
    commands = [["status", customer_id, "--json"], ["failures", customer_id, "--json"], ["dlq", "--json"]]
    commands += [
        ["audit", customer_id, f.kind, f.source_key, "--json"] for f in chaos.system.state.list_failures(customer_id)
    ]
    for command in commands:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            mlc([*command, "--local", stack_file])
        yield f"mlc {' '.join(command[:2])}", out.getvalue()


def _everything_written(stack: LocalStack) -> Iterator[tuple[str, str]]:
    for log in sorted(stack.work_dir.glob("logs*/*.log")):
        for number, line in enumerate(log.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            yield f"{log.name}:{number}", line
    table = stack.aws.resource("dynamodb").Table(stack.settings().state_table)
    for item in _scan(table):
        yield f"state item {item.get('pk')}/{item.get('sk')}", json.dumps(item, default=str)
    sqs = stack.aws.client("sqs")
    for name, url in stack.stack.outputs.items():
        if name.endswith("QueueUrl"):
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
                "Messages", []
            ):
                yield f"queue {name}", message["Body"]


def _scan(table: Any) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
