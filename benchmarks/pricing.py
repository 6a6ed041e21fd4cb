"""AWS list prices applied to a month of one customer's measured use, line by line with the arithmetic.

Prices are us-east-1, USD, on-demand, as published on aws.amazon.com/<service>/pricing in 2025 (DynamoDB's after its
November 2024 cut); free tiers are left out. Lambda is priced at the architecture template.yaml deploys (arm64).
What the local stack cannot show is estimated, and the line says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from benchmarks.aws_requests import FUNCTIONS
from benchmarks.harness import Bench, Tally
from ml_local.template import load_sam_template

# --- list prices ------------------------------------------------------------------------------------------------
LAMBDA_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
LAMBDA_PER_REQUEST = 0.20 / 1e6
DYNAMODB_PER_RRU = 0.125 / 1e6  # on-demand, since the November 2024 price cut
DYNAMODB_PER_WRU = 0.625 / 1e6
DYNAMODB_GB_MONTH = 0.25 + 0.20  # storage + point-in-time recovery (on in template.yaml)
SQS_STANDARD_PER_REQUEST = 0.40 / 1e6
SQS_FIFO_PER_REQUEST = 0.50 / 1e6
SECRET_MONTH = 0.40
SECRETS_PER_CALL = 0.05 / 10_000
KMS_KEY_MONTH = 1.00
KMS_PER_REQUEST = 0.03 / 10_000
METRIC_MONTH = 0.30
ALARM_MONTH = 0.10
DASHBOARD_MONTH = 3.00
LOGS_INGESTED_GB = 0.50
LOGS_STORED_GB_MONTH = 0.03
SCHEDULER_PER_INVOCATION = 1.00 / 1e6
GB = 1024**3

MONTH_MINUTES = 30 * 24 * 60

# --- what is not measured locally, and how it is estimated ------------------------------------------------------
PLATFORM_LOG_BYTES = 350
"""Lambda's own START, END and REPORT lines per invocation."""
LOG_RETENTION_MONTHS = 3
"""LogRetentionDays is 90: about three months of logs are stored at any time."""
AUDIT_RETENTION_MONTHS = 13
"""AuditRetentionDays is 400: what the puts write is kept about 13 months (a bound: overwritten items are counted)."""
ESM_POLLERS = 5
ESM_POLL_SECONDS = 20
"""Lambda polls each queue with an event source mapping all the time: 5 pollers, 20-second long polls when idle."""
SERVICE_KEY_PERIOD_MINUTES = 5
"""SQS and DynamoDB reuse a data key of the KMS key about 5 minutes per queue or table."""


@dataclass
class Requests:
    """Counts priced per unit (one customer's, over a stretch of time)."""

    read_units: float = 0.0
    write_units: float = 0.0
    bytes_written: float = 0.0
    sqs_fifo: float = 0.0
    sqs_standard: float = 0.0
    kms_calls: float = 0.0
    """The functions' own KMS requests (a secret's decryption by Secrets Manager is counted apart)."""
    log_bytes: float = 0.0

    def times(self, factor: float) -> Requests:
        return Requests(*(getattr(self, f.name) * factor for f in fields(self)))

    def plus(self, other: Requests) -> Requests:
        return Requests(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass
class Use:
    """AWS use over a stretch of time, for one customer: invocations and billed seconds (each invocation rounded up
    to the millisecond) per function, and requests."""

    invocations: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    requests: Requests = field(default_factory=Requests)

    @classmethod
    def of(cls, tally: Tally, esm_fifo: dict[str, bool]) -> Use:
        """``esm_fifo``: for each function fed by a queue, whether the queue is FIFO (its poller's receive and
        delete per batch are counted; the local driver's extra empty polls are not)."""
        invocations: dict[str, float] = {}
        seconds: dict[str, float] = {}
        for invocation in tally.invocations:
            invocations[invocation.function] = invocations.get(invocation.function, 0) + 1
            billed = math.ceil(invocation.seconds * 1000) / 1000
            seconds[invocation.function] = seconds.get(invocation.function, 0.0) + billed
        aws = tally.aws
        fifo_polls = 2 * sum(n for fn, n in invocations.items() if esm_fifo.get(fn) is True)
        standard_polls = 2 * sum(n for fn, n in invocations.items() if esm_fifo.get(fn) is False)
        own_fifo = aws.fifo_requests[FUNCTIONS]
        requests = Requests(
            read_units=aws.read_units,
            write_units=aws.write_units,
            bytes_written=aws.bytes_written,
            sqs_fifo=own_fifo + fifo_polls,
            sqs_standard=aws.count("sqs") - own_fifo + standard_polls,
            kms_calls=aws.count("kms"),
            log_bytes=tally.log_bytes + PLATFORM_LOG_BYTES * len(tally.invocations),
        )
        return cls(invocations, seconds, requests)

    def times(self, factor: float) -> Use:
        return Use(_scaled(self.invocations, factor), _scaled(self.seconds, factor), self.requests.times(factor))

    def plus(self, other: Use) -> Use:
        return Use(
            _summed(self.invocations, other.invocations),
            _summed(self.seconds, other.seconds),
            self.requests.plus(other.requests),
        )


def _scaled(values: dict[str, float], factor: float) -> dict[str, float]:
    return {k: v * factor for k, v in values.items()}


def _summed(left: dict[str, float], right: dict[str, float]) -> dict[str, float]:
    return {k: left.get(k, 0.0) + right.get(k, 0.0) for k in left.keys() | right.keys()}


@dataclass(frozen=True)
class SecretReads:
    """A worker keeps a customer's secret 5 minutes and polls come every 15: in a month, every invocation of a stage
    reads the secret again, as the first invocations of the onboarding did (each GetSecretValue also makes Secrets
    Manager decrypt with the connector's KMS key)."""

    calls: float
    """Secrets Manager calls per invocation with the cache expired."""
    decrypts: float
    """GetSecretValue calls among them."""

    @classmethod
    def of(cls, onboarding: Tally) -> SecretReads:
        invocations = sum(1 for i in onboarding.invocations if i.function != DISPATCHER) or 1
        calls = onboarding.aws.count("secretsmanager")
        return cls(calls / invocations, onboarding.aws.count("secretsmanager", "GetSecretValue") / invocations)


@dataclass(frozen=True)
class Line:
    section: str
    item: str
    arithmetic: str
    dollars: float


DISPATCHER = "DispatcherFunction"
PER_USE, PER_CUSTOMER, SHARED = "per customer, by use", "per customer, fixed", "shared by the deployment"


@dataclass(frozen=True)
class Dispatcher:
    """The deployment's dispatcher over the month: one invocation a tick, whatever the customers, shared by them."""

    ticks: float
    seconds: float
    """Billed seconds of all the month's ticks."""
    customers: int


@dataclass(frozen=True)
class Deployment:
    """What the deployed stack says about prices: memory, architecture, queues, metrics, alarms, dashboards."""

    memory_mb: dict[str, int]
    architecture: dict[str, str]
    esm_fifo: dict[str, bool]
    queues_with_consumers: tuple[int, int]
    """(FIFO, standard) queues a function consumes."""
    tables: int
    metrics: int
    alarms: int
    dashboards: int

    @classmethod
    def of(cls, bench: Bench) -> Deployment:
        lambda_client = bench.stack.aws.client("lambda")
        template = load_sam_template()
        # moto does not keep a function's architecture: the template's (its Globals, or the function's own).
        default_architecture = template.get("Globals", {}).get("Function", {}).get("Architectures", ["x86_64"])[0]
        memory, architecture, esm_fifo = {}, {}, {}
        for function in bench.stack.stack.functions.values():
            config = lambda_client.get_function_configuration(FunctionName=function.name)
            memory[function.logical_id] = int(config["MemorySize"])
            properties = template["Resources"][function.logical_id]["Properties"]
            architecture[function.logical_id] = properties.get("Architectures", [default_architecture])[0]
            for source in function.event_sources:
                esm_fifo[function.logical_id] = source.queue_url.endswith(".fifo")
        resources = template["Resources"].values()
        fifo_queues = sum(esm_fifo.values())
        return cls(
            memory,
            architecture,
            esm_fifo,
            (fifo_queues, len(esm_fifo) - fifo_queues),
            sum(1 for r in resources if r["Type"] == "AWS::DynamoDB::Table"),
            distinct_metrics(bench.log_files()),
            len(bench.stack.stack.alarms),
            sum(1 for r in resources if r["Type"] == "AWS::CloudWatch::Dashboard"),
        )


def distinct_metrics(logs: list[Path]) -> int:
    """Custom metrics the functions published (embedded metric format lines): one per name and dimension values."""
    seen: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if '"_aws"' not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
                for dimensions in directive.get("Dimensions", []) or [[]]:
                    values = tuple((name, str(record.get(name))) for name in dimensions)
                    for metric in directive.get("Metrics", []):
                        seen.add((directive.get("Namespace", ""), metric["Name"], values))
    return len(seen)


def price(month: Use, dispatcher: Dispatcher, secrets: SecretReads, deployment: Deployment) -> list[Line]:
    """The month's lines for one customer: ``month`` is its use (without the dispatcher's invocations), the shared
    lines are the deployment's divided by its customers."""
    invocations = sum(month.invocations.values())
    secret_calls = secrets.calls * invocations
    decrypts = secrets.decrypts * invocations
    lines = [
        Line(PER_USE, "Lambda requests", f"{invocations:,.0f} invocations x $0.20/1M", invocations * LAMBDA_PER_REQUEST)
    ]
    for function, seconds in sorted(month.seconds.items()):
        lines.append(_compute_line(PER_USE, function, month.invocations[function], seconds, deployment))
    r = month.requests
    stored_gb = r.bytes_written * AUDIT_RETENTION_MONTHS / GB
    log_gb = r.log_bytes / GB
    lines += [
        Line(PER_USE, "DynamoDB reads", f"{r.read_units:,.0f} RRU x $0.125/1M", r.read_units * DYNAMODB_PER_RRU),
        Line(PER_USE, "DynamoDB writes", f"{r.write_units:,.0f} WRU x $0.625/1M", r.write_units * DYNAMODB_PER_WRU),
        Line(PER_USE, "DynamoDB storage + PITR",
             f"{r.bytes_written / 1e6:.2f} MB put x {AUDIT_RETENTION_MONTHS} months kept = {stored_gb:.4f} GB x $0.45",
             stored_gb * DYNAMODB_GB_MONTH),
        Line(PER_USE, "SQS FIFO requests", f"{r.sqs_fifo:,.0f} (sends; poller receive + delete per batch) x $0.50/1M",
             r.sqs_fifo * SQS_FIFO_PER_REQUEST),
        Line(PER_USE, "SQS standard requests", f"{r.sqs_standard:,.0f} x $0.40/1M",
             r.sqs_standard * SQS_STANDARD_PER_REQUEST),
        Line(PER_USE, "Secrets Manager API",
             f"{invocations:,.0f} invocations x {secrets.calls:g} calls (5-minute cache expired) x $0.05/10k",
             secret_calls * SECRETS_PER_CALL),
        Line(PER_USE, "KMS requests", f"{r.kms_calls:,.0f} direct + {decrypts:,.0f} secret decryptions x $0.03/10k",
             (r.kms_calls + decrypts) * KMS_PER_REQUEST),
        Line(PER_USE, "Logs ingested", f"{r.log_bytes / 1e6:.1f} MB x $0.50/GB", log_gb * LOGS_INGESTED_GB),
        Line(PER_USE, "Logs stored", f"{log_gb:.4f} GB x {LOG_RETENTION_MONTHS} months kept x $0.03/GB-month",
             log_gb * LOG_RETENTION_MONTHS * LOGS_STORED_GB_MONTH),
        Line(PER_CUSTOMER, "Secrets Manager secret", "1 secret x $0.40", SECRET_MONTH),
    ]  # fmt: skip
    return lines + _shared_lines(dispatcher, deployment)


def _compute_line(section: str, function: str, invocations: float, seconds: float, deployment: Deployment) -> Line:
    gb = deployment.memory_mb[function] / 1024
    arch = deployment.architecture[function]
    rate = LAMBDA_GB_SECOND[arch]
    average = seconds / invocations * 1000 if invocations else 0.0
    arithmetic = f"{invocations:,.0f} x {average:.0f} ms x {gb:g} GB = {seconds * gb:,.0f} GB-s x ${rate}/GB-s ({arch})"
    return Line(section, f"Lambda {function.removesuffix('Function')}", arithmetic, seconds * gb * rate)


def _shared_lines(dispatcher: Dispatcher, deployment: Deployment) -> list[Line]:
    ticks = dispatcher.ticks
    fifo, standard = deployment.queues_with_consumers
    idle_polls = ESM_POLLERS * MONTH_MINUTES * 60 / ESM_POLL_SECONDS
    key_periods = MONTH_MINUTES / SERVICE_KEY_PERIOD_MINUTES
    service_kms = key_periods * (fifo + standard + deployment.tables)
    lines = [
        Line(SHARED, "Lambda requests (dispatcher)", f"{ticks:,.0f} ticks x $0.20/1M", ticks * LAMBDA_PER_REQUEST),
        _compute_line(SHARED, DISPATCHER, ticks, dispatcher.seconds, deployment),
        Line(SHARED, "EventBridge Scheduler", f"{ticks:,.0f} invocations x $1.00/1M", ticks * SCHEDULER_PER_INVOCATION),
        Line(SHARED, "SQS idle polling (estimate)",
             f"{fifo} FIFO + {standard} standard queues x {ESM_POLLERS} pollers x {idle_polls / ESM_POLLERS:,.0f} "
             f"long polls", idle_polls * (fifo * SQS_FIFO_PER_REQUEST + standard * SQS_STANDARD_PER_REQUEST)),
        Line(SHARED, "KMS requests by SQS, DynamoDB (estimate)",
             f"{fifo + standard} queues + {deployment.tables} tables x {key_periods:,.0f} key periods x $0.03/10k",
             service_kms * KMS_PER_REQUEST),
        Line(SHARED, "KMS key", "1 key x $1", KMS_KEY_MONTH),
        Line(SHARED, "CloudWatch custom metrics", f"{deployment.metrics} metrics seen in the logs x $0.30",
             deployment.metrics * METRIC_MONTH),
        Line(SHARED, "CloudWatch alarms", f"{deployment.alarms} alarms x $0.10", deployment.alarms * ALARM_MONTH),
        Line(SHARED, "CloudWatch dashboard", f"{deployment.dashboards} dashboard(s) x $3",
             deployment.dashboards * DASHBOARD_MONTH),
    ]  # fmt: skip
    return [Line(line.section, line.item, line.arithmetic, line.dollars / dispatcher.customers) for line in lines]


def print_lines(lines: list[Line], customers: int) -> None:
    for section in (PER_USE, PER_CUSTOMER, SHARED):
        chosen = [line for line in lines if line.section == section]
        subtotal = sum(line.dollars for line in chosen)
        label = f"{section}, / {customers} customers" if section == SHARED else section
        print(f"\n{label}: ${subtotal:.4f}")
        for line in chosen:
            print(f"  {line.item:<42} {line.arithmetic:<86} ${line.dollars:.4f}")
    total = sum(line.dollars for line in lines)
    fixed = sum(line.dollars for line in lines if line.section != PER_USE)
    print(f"\nTotal per customer-month: ${total:.2f} (fixed ${fixed:.2f}, by use ${total - fixed:.2f}); target < $1.00")
