"""The demo: the whole system on this machine, end to end, with a short readable report.

Local AWS (moto, resources from template.yaml), the Sage 100 agent serving the seeded demo company over HTTPS,
the AvidXchange simulator over HTTPS, the demo customer configured through the operator CLI (customer item,
secrets, ping), then one scheduled dispatcher cycle delivered to the stage functions until every queue is idle,
then payments made in AvidXchange posted back to Sage 100.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from avid_sim.server import Simulator, simulator_certificate, start_simulator
from avid_sim.settings import SimSettings
from ml_cli.__main__ import main as mlc
from ml_connector.kinds import CYCLE
from ml_local.driver import DeliveryReport
from ml_local.session import STATE_FILE_NAME, LocalStack, local_stack
from sage_agent.app import AgentSettings, create_app
from sage_agent.auth import AgentKeys, hash_agent_key
from sage_agent.sage_time import SystemClock
from sage_agent.serving import BackgroundServer, serve_https_in_thread
from sage_agent.simulated import SimulatedBackend
from sage_agent.simulated.generator import DEMO_COMPANY_CODE, DEMO_SHAPE, generate_company
from sage_agent.tls import ensure_self_signed_certificate

DEMO_CUSTOMER = "redrock-demo"
STATUS_PAGE = "status.html"


@dataclass
class DemoSystems:
    agent: BackgroundServer
    agent_key: str
    avid: Simulator
    sage: SimulatedBackend


def say(text: str) -> None:
    print(text, flush=True)


@contextmanager
def demo_systems(work_dir: Path) -> Iterator[DemoSystems]:
    """The customer's side: the agent with Redrock Construction Co. (RCC), and AvidXchange."""
    agent_dir = work_dir / "agent"
    db_path = agent_dir / f"{DEMO_COMPANY_CODE}.sqlite"
    if db_path.exists():
        db_path.unlink()
    agent_dir.mkdir(parents=True, exist_ok=True)
    generate_company(db_path, DEMO_SHAPE, dt.datetime.now())
    clock = SystemClock()
    sage = SimulatedBackend(db_path, clock=clock)
    agent_key = secrets.token_urlsafe(24)
    certificate, _ = ensure_self_signed_certificate(agent_dir / "agent.crt", agent_dir / "agent.key")
    app = create_app(
        {DEMO_COMPANY_CODE: sage}, AgentSettings(agent_keys=AgentKeys([hash_agent_key(agent_key)]), clock=clock)
    )
    settings = SimSettings(
        company_token=SecretStr(secrets.token_urlsafe(16)), user_token=SecretStr(secrets.token_urlsafe(16))
    )
    avid = start_simulator(settings, simulator_certificate(work_dir / "avid"))
    try:
        with serve_https_in_thread(app, certificate) as agent:
            yield DemoSystems(agent, agent_key, avid, sage)
    finally:
        avid.server.stop()


def describe_systems(systems: DemoSystems, work_dir: Path) -> str:
    """How to point a customer item at the running agent and simulator (the secrets are in files, not printed)."""
    secrets_dir = write_secret_files(systems, work_dir)
    return (
        f"Sage 100 agent: {systems.agent.url} company {DEMO_COMPANY_CODE}, certificate SHA-256 "
        f"{systems.agent.certificate.fingerprint_sha256}\n"
        f"AvidXchange simulator: {systems.avid.server.url}, certificate {systems.avid.certificate.cert_path}\n"
        f"agent key and AvidConnect tokens: files in {secrets_dir} (for `mlc secrets put ... --*-file`)"
    )


def write_secret_files(systems: DemoSystems, work_dir: Path) -> Path:
    directory = work_dir / "secrets"
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in {
        "agent-key": systems.agent_key,
        "avid-company-token": systems.avid.settings.company_token.get_secret_value(),
        "avid-user-token": systems.avid.settings.user_token.get_secret_value(),
    }.items():
        path = directory / name
        path.write_text(value)
        path.chmod(0o600)
    return directory


def configure_demo_customer(stack: LocalStack, systems: DemoSystems, work_dir: Path) -> None:
    """The operator's steps, through the operator CLI: customer item, secrets, ping."""
    target = ["--local", str(work_dir / STATE_FILE_NAME)]
    prefix = stack.settings().secret_prefix
    item = {
        "customer_id": DEMO_CUSTOMER,
        "display_name": "Redrock Construction Co.",
        "agent": {
            "base_url": systems.agent.url,
            "company": DEMO_COMPANY_CODE,
            "tls": {"mode": "pinned", "fingerprint_sha256": systems.agent.certificate.fingerprint_sha256},
        },
        "avid": {"base_url": systems.avid.server.url, "ca_bundle_pem": systems.avid.certificate.cert_path.read_text()},
        # Replaced by `mlc secrets put` with the ARN of the secret it stores.
        "secret_arn": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{prefix}{DEMO_CUSTOMER}",
        "invoice_start_date": "2020-01-01",
        "bank_code": "A",
        "cost_center_segment": 3,
    }
    customer_file = work_dir / f"{DEMO_CUSTOMER}.json"
    customer_file.write_text(json.dumps(item, indent=2))
    secrets_dir = write_secret_files(systems, work_dir)
    secret_files = {name: secrets_dir / name for name in ("agent-key", "avid-company-token", "avid-user-token")}
    steps = [
        ["customer", "put", str(customer_file), *target],
        [
            "secrets",
            "put",
            DEMO_CUSTOMER,
            *(a for name, path in secret_files.items() for a in (f"--{name}-file", str(path))),
            *target,
        ],
        ["ping", DEMO_CUSTOMER, *target],
    ]
    for argv in steps:
        say(f"\n$ mlc {' '.join(argv)}")
        if mlc(argv) != 0:
            raise SystemExit(f"demo: `mlc {' '.join(argv)}` failed; see the message above")


def _file_options(files: dict[str, Path]) -> list[str]:
    return [option for name, path in files.items() for option in (f"--{name}-file", str(path))]


def run_cycle(stack: LocalStack) -> DeliveryReport:
    say("\nFiring the dispatcher schedule (one cycle: " + " -> ".join(CYCLE) + ")")
    for summary in stack.driver.fire_schedules():
        say(f"  dispatcher queued: {', '.join(summary['queued']) or 'nothing'}")
    started = time.monotonic()

    def progress(round_no: int, report: DeliveryReport) -> None:
        if report.delivered:
            say(f"  delivery round {round_no}: {report.delivered} message(s), {report.failed} failed "
                f"({time.monotonic() - started:.0f}s)")  # fmt: skip

    return stack.driver.drain(on_round=progress)


def pay_some_invoices(stack: LocalStack, systems: DemoSystems, work_dir: Path) -> None:
    """What the AP team does in AvidXchange: approve invoices and pay them (check, ACH, virtual card); then the
    payments stage posts them to Sage 100 as manual checks."""
    by_vendor: dict[str, list[str]] = {}
    for invoice in systems.avid.state.invoices.values():
        division, vendor_no = invoice.vendor_external_code.split("-", 1)
        in_sage = systems.sage.read_open_invoice(division, vendor_no, invoice.number)
        if invoice.gross_amount > 0 and in_sage is not None and in_sage.Balance == in_sage.InvoiceAmt:
            by_vendor.setdefault(invoice.vendor_external_code, []).append(invoice.id)
    vendors = sorted(by_vendor, key=lambda code: -len(by_vendor[code]))[:3]
    say("\nIn AvidXchange, approving and paying the invoices of three vendors (check, ACH, virtual card) ...")
    for vendor, method in zip(vendors, ("Check", "ACH", "VirtualCard"), strict=False):
        invoice_ids = by_vendor[vendor][:3]
        for invoice_id in invoice_ids:
            systems.avid.controls.start_approval(invoice_id)
            systems.avid.controls.approve(invoice_id)
        paid = systems.avid.controls.pay(invoice_ids, method=method)
        say(f"  payment {paid.number}: {method} {paid.amount} to {vendor} for {len(invoice_ids)} invoices")
    argv = ["run", DEMO_CUSTOMER, "payments", "--local", str(work_dir / STATE_FILE_NAME)]
    say(f"\n$ mlc {' '.join(argv)}")
    mlc(argv)
    stack.driver.drain()


def report(stack: LocalStack, systems: DemoSystems, work_dir: Path, elapsed: float) -> None:
    target = f"--local {work_dir / STATE_FILE_NAME}"
    state = systems.avid.state
    say(f"\nDone in {elapsed:.0f}s. What moved:")
    mlc(["status", DEMO_CUSTOMER, "--local", str(work_dir / STATE_FILE_NAME)])
    with_image = sum(1 for i in state.invoices.values() if i.has_image)
    checks = sum(1 for m in stack.state_store().iter_mappings(DEMO_CUSTOMER, "payment") if m.remote_id)
    say(f"\nSage 100 received {checks} manual checks for the AvidXchange payments.")
    say(
        f"AvidXchange (simulator) now holds {len(state.vendors)} vendors "
        f"({sum(1 for v in state.vendors.values() if not v.active)} inactive), "
        f"{len(state.enterprise_codes)} enterprise codes, {len(state.invoices)} invoices ({with_image} with images)."
    )
    say("\nWhat was skipped or failed, and why:")
    mlc(["failures", DEMO_CUSTOMER, "--limit", "5", "--local", str(work_dir / STATE_FILE_NAME)])
    say("\nThe status page (open it in a browser):")
    mlc(["report", DEMO_CUSTOMER, "--html", str(work_dir / STATUS_PAGE), "--local", str(work_dir / STATE_FILE_NAME)])
    say(
        "\nWhere to look next:\n"
        f"  .venv/bin/mlc status {DEMO_CUSTOMER} {target}\n"
        f"  .venv/bin/mlc failures {DEMO_CUSTOMER} {target}\n"
        f"  .venv/bin/mlc audit {DEMO_CUSTOMER} invoice <01-VENDOR/INVOICE> {target}\n"
        f"  .venv/bin/mlc dlq {target}\n"
        f"  function logs: {work_dir / 'logs'}\n"
        f"  AvidXchange simulator: {systems.avid.server.url} (controls under /_sim/, see simulators/avid_sim/README.md)"
    )


def run_demo(work_dir: Path, *, keep_running: bool) -> int:
    started = time.monotonic()
    say("Starting local AWS (moto server mode) with the resources of template.yaml ...")
    with local_stack(work_dir) as stack:
        say(f"  AWS endpoint {stack.aws.endpoint_url}; {len(stack.stack.functions)} functions, stack described in "
            f"{work_dir / STATE_FILE_NAME}")  # fmt: skip
        say("Starting the Sage 100 agent (demo company RCC) and the AvidXchange simulator over HTTPS ...")
        with demo_systems(work_dir) as systems:
            fingerprint = systems.agent.certificate.fingerprint_sha256
            say(f"  agent {systems.agent.url} (certificate SHA-256 {fingerprint[:16]}...)")
            say(f"  AvidXchange {systems.avid.server.url}")
            configure_demo_customer(stack, systems, work_dir)
            cycle = run_cycle(stack)
            pay_some_invoices(stack, systems, work_dir)
            report(stack, systems, work_dir, time.monotonic() - started)
            if cycle.errors:
                say("\nFunction errors during the run:\n  " + "\n  ".join(cycle.errors[:5]))
            if keep_running:
                say("\nThe stack stays up for the CLI (commands above). Ctrl-C stops it.")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    say("stopped")
    return 0


def keep_running_by_default() -> bool:
    """Interactive runs stay up for inspection; scripted runs (CI, no terminal) end after the report."""
    return sys.stdin.isatty()
