"""`sage-agent fingerprint`, never replacing a certificate, `init` refusals and `service` off Windows."""

from __future__ import annotations

import hashlib
import re
import ssl
import sys
from pathlib import Path

import pytest

from ml_connector.connections import AgentTls, TlsMode
from sage_agent.__main__ import main
from sage_agent.tls import ensure_self_signed_certificate
from tests.agent.test_config_cli import GOOD, write


def config_file(tmp_path: Path) -> Path:
    return write(tmp_path, GOOD)


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err


def test_fingerprint_prints_what_the_connector_pins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files, _ = ensure_self_signed_certificate(tmp_path / "tls" / "agent.crt", tmp_path / "tls" / "agent.key")
    assert main(["fingerprint", "--config", str(config_file(tmp_path))]) == 0
    printed = capsys.readouterr().out.strip()
    der = ssl.PEM_cert_to_DER_cert(files.cert_path.read_text())
    assert printed == hashlib.sha256(der).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", printed)
    assert AgentTls(mode=TlsMode.PINNED, fingerprint_sha256=printed).fingerprint_sha256 == printed


def test_fingerprint_before_a_certificate_exists_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fingerprint", "--config", str(config_file(tmp_path))]) == 2
    assert "does not exist yet" in one_line_error(capsys)


def test_a_certificate_without_its_key_is_never_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files, _ = ensure_self_signed_certificate(tmp_path / "tls" / "agent.crt", tmp_path / "tls" / "agent.key")
    pinned = files.cert_path.read_bytes()
    files.key_path.unlink()
    assert main(["serve", "--config", str(config_file(tmp_path))]) == 2
    assert "exists but its key" in one_line_error(capsys)
    assert files.cert_path.read_bytes() == pinned
    assert not files.key_path.exists()


def test_init_into_an_unwritable_place_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", "utf-8")
    assert main(["init", "--dir", str(blocker / "agent")]) == 2
    assert str(blocker) in one_line_error(capsys)


@pytest.mark.parametrize("port", ["70000", "0", "-1", "https"])
def test_init_refuses_a_port_that_is_not_one(tmp_path: Path, capsys: pytest.CaptureFixture[str], port: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["init", "--dir", str(tmp_path / "agent"), "--port", port])
    assert exited.value.code == 2
    assert "--port" in capsys.readouterr().err
    assert not (tmp_path / "agent").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="checks the refusal off Windows")
def test_service_commands_off_windows_are_one_line_and_never_import_pywin32(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["service", "install", "--config", str(config_file(tmp_path))]) == 2
    assert "need Windows" in one_line_error(capsys)
    assert not {"win32serviceutil", "servicemanager", "pythoncom"} & set(sys.modules)
