"""The TOML configuration, the CLI, and `sage-agent serve` as a real HTTPS server started with one command."""

from __future__ import annotations

import io
import re
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sage_agent.__main__ import main
from sage_agent.auth import hash_agent_key
from sage_agent.config import ConfigError, load_config
from sage_agent.runtime import build_agent
from sage_agent.tls import certificate_fingerprint

GOOD = f"""
[server]
host = "127.0.0.1"
port = 9443

[auth]
agent_key_sha256 = ["{hash_agent_key("a-long-enough-agent-key")}"]

[companies.RCC]
kind = "simulated"
sqlite_path = "data/RCC.sqlite"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text, "utf-8")
    return path


def test_a_good_config_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.server.port == 9443
    assert config.tls.cert_file == tmp_path / "tls" / "agent.crt"
    company = config.companies["RCC"]
    assert company.kind == "simulated"
    assert company.sqlite_path == tmp_path / "data" / "RCC.sqlite"
    assert config.agent.faults_enabled is False
    assert config.agent.post_payments is True


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("port = 9443", "port = 70000"), "server.port"),
        (("port = 9443", 'port = "high"'), "server.port"),
        (("[companies.RCC]", "[companies.rcc]"), "companies.rcc"),
        (('kind = "simulated"', 'kind = "oracle"'), "companies.RCC"),
        (('sqlite_path = "data/RCC.sqlite"', ""), "companies.RCC.simulated.sqlite_path"),
        (("agent_key_sha256 = [", "agent_key_sha256 = ['nothex', "), "auth.agent_key_sha256[0]"),
        (("[server]", "[server]\nthreads = 4"), "server.threads"),
        (("[server]", "[server"), "not valid TOML"),
    ],
)
def test_bad_values_give_one_message_naming_the_key(tmp_path: Path, change: tuple[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, GOOD.replace(*change)))
    assert named in str(raised.value)
    assert str(tmp_path / "agent.toml") in str(raised.value)


def test_cli_reports_config_errors_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--config", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert "sage-agent: error: config file" in err
    assert "sage-agent init" in err
    assert "Traceback" not in err
    assert main(["serve", "--config", str(write(tmp_path, GOOD))]) == 2
    assert "sage-agent seed --demo" in capsys.readouterr().err, "a missing company database says how to create it"


def test_seed_refuses_to_overwrite_a_company(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "RCC.sqlite"
    assert main(["seed", "--empty", "--db", str(db)]) == 0
    assert main(["seed", "--demo", "--db", str(db)]) == 2
    assert "already holds a company" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_init_then_serve_runs_an_https_agent_that_prints_its_fingerprint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--dir", str(tmp_path), "--port", str(free_port())]) == 0
    printed = capsys.readouterr().out
    key = re.search(r"agent key \(shown once; only its hash is stored\): (\S+)", printed).group(1)  # type: ignore[union-attr]
    config_text = (tmp_path / "agent.toml").read_text()
    assert key not in config_text
    assert hash_agent_key(key) in config_text
    config_text = config_text.replace('host = "0.0.0.0"', 'host = "127.0.0.1"')
    (tmp_path / "agent.toml").write_text(config_text)
    port = load_config(tmp_path / "agent.toml").server.port

    process = subprocess.Popen(
        [sys.executable, "-m", "sage_agent", "serve", "--config", str(tmp_path / "agent.toml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "Uvicorn running on" in line:
                break
        output = "".join(lines)
        fingerprint = re.search(r"fingerprint: ([0-9a-f]{64})", output).group(1)  # type: ignore[union-attr]
        served = ssl.get_server_certificate(("127.0.0.1", port))
        assert certificate_fingerprint(served.encode()) == fingerprint
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "agent.crt"))
        health = httpx.get(f"https://127.0.0.1:{port}/v1/health", headers={"X-Agent-Key": key}, verify=context)
        assert health.status_code == 200
        assert health.json()["companies"] == ["RCC"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_faults_exist_only_when_the_config_enables_them(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    assert main(["seed", "--empty", "--db", str(tmp_path / "data" / "RCC.sqlite")]) == 0
    quiet = build_agent(load_config(write(tmp_path, GOOD)))
    noisy = build_agent(load_config(write(tmp_path, GOOD + "\n[agent]\nfaults_enabled = true\n")))
    assert quiet.app.state.agent_settings.faults is None
    assert noisy.app.state.agent_settings.faults is not None
    assert quiet.certificate_created is True
    assert noisy.certificate_created is False


def test_a_boi_company_off_windows_is_refused_in_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "sage-password.txt").write_text("secret", "utf-8")
    text = GOOD.replace(
        'kind = "simulated"\nsqlite_path = "data/RCC.sqlite"',
        'kind = "boi"\nsage_home = \'C:\\\\Sage\'\nuser = "agent"\npassword_file = "sage-password.txt"',
    )
    with pytest.raises(ConfigError, match=r"companies\.RCC: the BOI backend needs Windows with Sage 100"):
        build_agent(load_config(write(tmp_path, text)))
    assert "pywin32" not in sys.modules and "win32com" not in sys.modules


def test_a_database_of_another_company_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    assert main(["seed", "--empty", "--db", str(tmp_path / "data" / "RCC.sqlite")]) == 0
    text = GOOD.replace("[companies.RCC]", "[companies.ABC]")
    with pytest.raises(ConfigError, match="holds company RCC, not ABC"):
        build_agent(load_config(write(tmp_path, text)))


def test_hash_key_prints_the_sha256_of_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-agent-key\n"))
    assert main(["hash-key"]) == 0
    assert capsys.readouterr().out.strip() == hash_agent_key("a-long-enough-agent-key")
