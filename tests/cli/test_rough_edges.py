"""What a new operator trips over: each gives one clear line and the right exit code."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ml_cli.__main__ import build_parser, installed_version
from ml_cli.deployment import Deployment
from ml_local.__main__ import DEFAULT_WORK_DIR
from ml_local.__main__ import main as ml_local
from ml_local.session import STATE_FILE_NAME
from sage_agent.serving import free_port
from tests.cli.conftest import Mlc
from tests.support.customers import make_customer


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_failures_of_an_unknown_customer_says_so(mlc: Mlc) -> None:
    result = mlc("failures", "nobody")

    assert result.code == 1
    assert "no customer nobody" in one_line(result.err)


def test_replay_of_an_unknown_customer_says_so(mlc: Mlc) -> None:
    result = mlc("replay", "--customer", "nobody")

    assert result.code == 1
    assert "no customer nobody" in one_line(result.err)


def test_audit_of_an_unknown_kind_lists_the_kinds(mlc: Mlc, deployment: Deployment, customer_id: str) -> None:
    deployment.customers().put(make_customer(customer_id))

    result = mlc("audit", customer_id, "bogus-kind", "KEY")

    assert result.code == 2
    assert "'bogus-kind' is not a record kind; the kinds are vendor, gl-account, segment-value, invoice, payment" in (
        one_line(result.err)
    )


def test_ping_with_a_missing_secret_says_how_to_create_it(mlc: Mlc, deployment: Deployment, customer_id: str) -> None:
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{deployment.secret_prefix}{customer_id}-AbCdEf"
    deployment.customers().put(make_customer(customer_id, secret_arn=arn))

    result = mlc("ping", customer_id)

    assert result.code == 1
    assert f"does not exist; create it with `mlc secrets put {customer_id}`" in result.out
    assert "NoneType" not in result.out + result.err


def test_a_wrong_stage_name_lists_the_stages(mlc: Mlc, customer_id: str) -> None:
    result = mlc("run", customer_id, "invoice")

    assert result.code == 2
    assert "'invoice' is not a stage; the stages are vendors, gl, invoices, payments" in one_line(result.err)


def test_version(mlc: Mlc, capsys: pytest.CaptureFixture[str]) -> None:
    result = mlc("--version", target=False)

    assert result.code == 0
    assert one_line(result.out) == f"mlc {installed_version()}"
    assert installed_version()[0].isdigit()


def test_the_default_local_stack_is_the_repositorys_wherever_mlc_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, repo_root: Path
) -> None:
    monkeypatch.chdir(tmp_path)

    local = build_parser().parse_args(["status", "--local"]).local

    assert local == repo_root / ".local-stack" / "stack.json" == DEFAULT_WORK_DIR / STATE_FILE_NAME
    assert local.is_absolute()


def test_json_into_a_closed_pipe_ends_quietly(stack_file: Path) -> None:
    """`mlc status --json | head`: the reader is gone before mlc writes (deterministic: its end is closed first)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "ml_cli", "status", "--json", "--local", str(stack_file)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)

    assert finished.stderr == ""
    assert finished.returncode == 141


def test_ml_local_with_an_unusable_work_dir_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    code = ml_local(["--work-dir", str(blocker / "stack"), "up"])

    assert code == 2
    assert f"ml-local: cannot use --work-dir {blocker / 'stack'}: Not a directory" == one_line(capsys.readouterr().err)


def test_ml_local_with_its_port_in_use_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        code = ml_local(["--work-dir", str(tmp_path), "up", "--port", str(port)])

    assert code == 1
    assert f"port {port} on 127.0.0.1 is in use; choose another with --port" in one_line(capsys.readouterr().err)


@pytest.mark.slow
def test_ml_local_up_stops_on_sigint_even_when_started_with_sigint_ignored(tmp_path: Path) -> None:
    """A non-interactive shell's `ml-local up &` inherits SIGINT ignored; `kill -INT` must still stop it."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ml_local",
            "--work-dir",
            str(tmp_path),
            "up",
            "--port",
            str(free_port("127.0.0.1")),
            "--tick",
            "3600",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # noqa: PLW1509
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Ctrl-C stops"):
                break
        else:
            pytest.fail("ml-local up ended before it was up")
        process.send_signal(signal.SIGINT)
        # A bound for a hang, not a speed expectation: without its own handler it would never stop.
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert "Traceback" not in output, output
    assert "stopped" in output
    assert process.returncode == 0
