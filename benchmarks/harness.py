"""The system every benchmark measures, and what it counts.

One customer on the local stack (moto server, template.yaml, the functions in worker processes), its Sage 100 agent
serving a company made by the agent's generator, and the AvidXchange simulator, with the network's conditions: the
agent's latency, AvidConnect's latency and its rate limit (a token bucket, 429 with Retry-After beyond it).

What a measured step costs (``Bench.measure``): wall time; agent calls by endpoint (counted where the agent's fault
controls see every call); AvidConnect calls and 429s (the simulator's call stats); AWS requests (see
``aws_requests``); each function invocation and its wall time (what Lambda bills); CPU seconds by process and the
bytes the functions logged. The workers' peak resident memory comes from /proc (``processes``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avid_sim.errors import AvidApiError
from avid_sim.models import InvoiceStatus
from avid_sim.testing import running_avid
from benchmarks.aws_requests import (
    FUNCTION_APP_ID,
    RECORDER_FILE_VARIABLE,
    AwsTally,
    MotoRecording,
    start_recording,
)
from benchmarks.processes import MOTO, THIS_PROCESS, cpu_seconds, worker_peak_rss
from ml_connector.customers import Customer
from ml_connector.kinds import Stage
from ml_connector.state.models import StageRun
from ml_local.lambda_runtime import LocalLambda
from ml_local.session import LocalStack, local_stack
from sage_agent.faults import FaultController
from sage_agent.simulated.generator import CompanyShape
from sage_agent.testing import running_agent
from tests.support.system import AGENT_KEY, ConnectedCustomer, configure_customer

CUSTOMER_ID = "bench-co"
PAYMENT_METHODS = ("Check", "ACH", "VirtualCard")
IMAGE_SHARE = 0.85
"""Share of generated invoices with a scanned image (the demo company's)."""
LOG_DIR = "logs"
"""Where the local runtime writes each function's log (under the stack's work directory)."""
DRAIN_ROUNDS = 1_000_000
"""A measured step delivers until every queue is idle, however many continuations and retries that takes."""


@dataclass(frozen=True)
class Conditions:
    agent_latency: float
    """Seconds added to every agent call."""
    avid_latency: float
    """Seconds added to every AvidConnect call."""
    rate_limit: float | None
    """AvidConnect calls per second the simulator lets through (None: no limit)."""
    burst: int
    avid_options: dict[str, Any] = field(default_factory=dict)
    """Fields of the customer's AvidXchange connection (``max_in_flight``...), besides its address."""

    def describe(self) -> str:
        limit = f"{self.rate_limit:g} req/s, burst {self.burst}" if self.rate_limit else "none"
        options = f"; AvidXchange connection {json.dumps(self.avid_options)}" if self.avid_options else ""
        return (
            f"agent latency {self.agent_latency * 1000:g} ms, AvidConnect latency {self.avid_latency * 1000:g} ms, "
            f"AvidConnect rate limit {limit}{options}"
        )


def add_condition_arguments(
    parser: argparse.ArgumentParser,
    *,
    agent_latency_ms: float = 20,
    avid_latency_ms: float = 60,
    rate_limit: float = 25,
    burst: int = 25,
) -> None:
    group = parser.add_argument_group("network conditions")
    group.add_argument("--agent-latency-ms", type=float, default=agent_latency_ms, help=f"default {agent_latency_ms:g}")
    group.add_argument("--avid-latency-ms", type=float, default=avid_latency_ms, help=f"default {avid_latency_ms:g}")
    group.add_argument(
        "--rate-limit", type=float, default=rate_limit, help=f"AvidConnect calls/s, 0 for none; default {rate_limit:g}"
    )
    group.add_argument("--burst", type=int, default=burst, help=f"the rate limit's bucket size; default {burst}")
    group.add_argument(
        "--avid-option",
        action="append",
        default=[],
        metavar="FIELD=JSON",
        help="a field of the customer's AvidXchange connection, e.g. max_in_flight=8 (repeatable)",
    )


def conditions_from(args: argparse.Namespace) -> Conditions:
    options: dict[str, Any] = {}
    for option in args.avid_option:
        name, _, value = option.partition("=")
        try:
            options[name] = json.loads(value)
        except json.JSONDecodeError:
            options[name] = value
    return Conditions(
        agent_latency=args.agent_latency_ms / 1000,
        avid_latency=args.avid_latency_ms / 1000,
        rate_limit=args.rate_limit or None,
        burst=args.burst,
        avid_options=options,
    )


@dataclass(frozen=True)
class Invocation:
    function: str
    """The function's logical id."""
    seconds: float


@dataclass(frozen=True)
class Tally:
    """What one measured step did."""

    seconds: float
    agent_calls: Counter[str]
    """By agent endpoint name."""
    avid_calls: int
    """AvidConnect calls, 429s included."""
    avid_rate_limited: int
    aws: AwsTally
    invocations: tuple[Invocation, ...]
    cpu: dict[str, float]
    """CPU seconds by process: ``MOTO``, a function's logical id (its workers), ``THIS_PROCESS``."""
    log_bytes: int
    """What the functions wrote to their logs (CloudWatch Logs would ingest it)."""

    @property
    def agent_total(self) -> int:
        return sum(self.agent_calls.values())

    def describe_invocations(self) -> str:
        """``Invoices 3xPayments``: the functions invoked, how many times each."""
        counts = Counter(i.function.removesuffix("Function") for i in self.invocations)
        return " ".join(name if n == 1 else f"{n}x{name}" for name, n in sorted(counts.items()))

    def cpu_split(self) -> tuple[float, float, float]:
        """CPU seconds of the moto server, of the functions' workers, and of this process."""
        functions = sum(seconds for role, seconds in self.cpu.items() if role not in (MOTO, THIS_PROCESS))
        return self.cpu.get(MOTO, 0.0), functions, self.cpu.get(THIS_PROCESS, 0.0)


class AgentCallCounter:
    """Counts the agent's calls by endpoint, where its fault controls see each one (before it runs)."""

    def __init__(self, faults: FaultController) -> None:
        self._before_call = faults.before_call
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        faults.before_call = self._count  # type: ignore[method-assign]

    def _count(self, endpoint: str) -> None:
        with self._lock:
            self.calls[endpoint] += 1
        self._before_call(endpoint)

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.calls)


class InvocationTimer:
    """Times every invocation the local runtime makes (a warm worker's call, or a new worker's start and call)."""

    def __init__(self, runtime: LocalLambda) -> None:
        self._invoke = runtime.invoke
        self._lock = threading.Lock()
        self.invocations: list[Invocation] = []
        runtime.invoke = self._timed  # type: ignore[method-assign]

    def _timed(self, logical_id: str, event: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return self._invoke(logical_id, event)
        finally:
            with self._lock:
                self.invocations.append(Invocation(logical_id, time.perf_counter() - started))

    def count(self) -> int:
        with self._lock:
            return len(self.invocations)

    def since(self, start: int) -> tuple[Invocation, ...]:
        with self._lock:
            return tuple(self.invocations[start:])


@dataclass
class Bench:
    system: ConnectedCustomer
    conditions: Conditions
    recording: MotoRecording
    agent_calls: AgentCallCounter
    invocations: InvocationTimer

    @property
    def stack(self) -> LocalStack:
        return self.system.stack

    @property
    def max_in_flight(self) -> int:
        return self.system.customer.avid.max_in_flight

    def measure(self, action: Callable[[], object]) -> Tally:
        self.recording.read_new()  # what came before (the benchmark's own set-up) is not this step's
        agent_before = self.agent_calls.snapshot()
        avid_before = self.system.avid.controls.call_stats()
        invocations_before = self.invocations.count()
        cpu_before = cpu_seconds(self.stack)
        logs_before = self.log_bytes()
        started = time.perf_counter()
        action()
        seconds = time.perf_counter() - started
        avid_after = self.system.avid.controls.call_stats()
        return Tally(
            seconds=seconds,
            agent_calls=self.agent_calls.snapshot() - agent_before,
            avid_calls=avid_after.calls - avid_before.calls,
            avid_rate_limited=avid_after.rate_limited - avid_before.rate_limited,
            aws=self.recording.read_new(),
            invocations=self.invocations.since(invocations_before),
            cpu={role: spent - cpu_before.get(role, 0.0) for role, spent in cpu_seconds(self.stack).items()},
            log_bytes=self.log_bytes() - logs_before,
        )

    def run(self, stage: Stage, *, cycle_id: str, then: tuple[Stage, ...] = ()) -> tuple[Tally, StageRun]:
        """Queue a work order as the dispatcher would and deliver until every queue is idle (the stage, its
        continuations, the stages in ``then`` and the retries all run); the tally and the stage's run."""

        def queue_and_drain() -> None:
            self.system.queue(stage, cycle_id=cycle_id, then=then)
            self.stack.driver.drain(max_rounds=DRAIN_ROUNDS)

        tally = self.measure(queue_and_drain)
        run = self.system.state.get_run(self.system.customer_id, stage)
        if run is None:
            raise RuntimeError(f"the {stage} stage never ran; see the function logs in {self.stack.work_dir / LOG_DIR}")
        return tally, run

    def worker_peak_rss(self) -> dict[str, int]:
        return worker_peak_rss(self.stack)

    def log_files(self) -> list[Path]:
        return sorted((self.stack.work_dir / LOG_DIR).glob("*.log"))

    def log_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.log_files())


def pay_pushed_invoices(bench: Bench, max_payments: int | None = None) -> tuple[int, int]:
    """What the AP team does in AvidXchange: approve the pushed invoices it can pay and pay them, one settled
    payment per vendor (Check, ACH, virtual card in turn), up to ``max_payments``; (payments, invoices paid)."""
    controls, state = bench.system.avid.controls, bench.system.avid.state
    by_vendor: dict[str, list[str]] = {}
    for invoice in list(state.invoices.values()):
        vendor = state.vendors.get(invoice.vendor_external_code)
        if (
            invoice.status is InvoiceStatus.RECEIVED
            and invoice.gross_amount > 0
            and vendor is not None
            and vendor.active
        ):
            by_vendor.setdefault(invoice.vendor_external_code, []).append(invoice.id)
    payments = invoices = 0
    for number, ids in enumerate(by_vendor.values()):
        if payments == max_payments:
            break
        try:
            for invoice_id in ids:
                controls.start_approval(invoice_id)
                controls.approve(invoice_id)
            controls.pay(ids, method=PAYMENT_METHODS[number % len(PAYMENT_METHODS)])
        except AvidApiError as error:
            say(f"  not paid: {error}")
            continue
        payments, invoices = payments + 1, invoices + len(ids)
    return payments, invoices


@contextlib.contextmanager
def bench_system(work_dir: Path, shape: CompanyShape, conditions: Conditions, **customer: Any) -> Iterator[Bench]:
    """Everything up, the customer configured (``customer``: fields of its item), counting from the first step."""
    work_dir.mkdir(parents=True, exist_ok=True)
    recording_path = work_dir / "moto-recording.jsonl"
    with (
        _environment(**{RECORDER_FILE_VARIABLE: str(recording_path)}),
        local_stack(work_dir / "stack", extra_environment={"AWS_SDK_UA_APP_ID": FUNCTION_APP_ID}) as stack,
        running_agent(work_dir, seed=shape, agent_key=AGENT_KEY) as agent,
        running_avid(work_dir) as avid,
    ):
        system = ConnectedCustomer(stack, agent, avid, configure_customer(stack, agent, avid, CUSTOMER_ID, **customer))
        if conditions.avid_options:
            item = system.customer.model_dump(mode="json", exclude_none=True)
            item["avid"].update(conditions.avid_options)
            system.customer = Customer.model_validate(item)
            system.update_customer()
        agent.faults.set_latency(conditions.agent_latency)
        avid.controls.set_latency(conditions.avid_latency)
        avid.controls.set_rate_limit(conditions.rate_limit, conditions.burst if conditions.rate_limit else None)
        start_recording(stack.aws.endpoint_url)
        yield Bench(
            system=system,
            conditions=conditions,
            recording=MotoRecording(recording_path),
            agent_calls=AgentCallCounter(agent.faults),
            invocations=InvocationTimer(stack.runtime),
        )


@contextlib.contextmanager
def _environment(**variables: str) -> Iterator[None]:
    """Set for processes started inside the block (the moto server reads its recorder's file name at start)."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def work_directory(chosen: Path | None, prefix: str) -> Iterator[Path]:
    """``chosen`` (kept afterwards), or a temporary directory removed at the end."""
    if chosen is not None:
        chosen.mkdir(parents=True, exist_ok=True)
        yield chosen
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as temporary:
        yield Path(temporary)


def say(text: str) -> None:
    """Progress, on stderr: stdout holds only the figures."""
    print(text, file=sys.stderr, flush=True)


def mib(size: float) -> str:
    return f"{size / 1_048_576:.0f} MiB"
