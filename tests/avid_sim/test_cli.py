from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from avid_sim.__main__ import main
from sage_agent.tls import certificate_fingerprint


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["serve", "--port", "99999", "--company-token", "c", "--user-token", "u"], "port must be a number"),
        (["serve", "--port", "http"], "port must be a number"),
        (["serve", "--user-token", "u"], "--company-token is required"),
        (["serve", "--company-token", "c", "--user-token", "u", "--max-image-bytes", "0"], "--max-image-bytes"),
        (["serve", "--company-token", "c", "--user-token", "u", "--user-header", "X Bad"], "--user-header"),
        (["launch"], "invalid choice"),
    ],
)
def test_bad_values_give_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AVID_SIM_COMPANY_TOKEN", raising=False)
    monkeypatch.delenv("AVID_SIM_USER_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("avid-sim: error: ")
    assert expected in err


def test_a_taken_port_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit):
            main(
                [
                    "serve",
                    "--port",
                    str(port),
                    "--state-dir",
                    str(tmp_path),
                    "--company-token",
                    "c",
                    "--user-token",
                    "u",
                ]
            )
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"cannot serve on 127.0.0.1:{port}" in err


HEADERS = {"X-Company-Token": "env-company", "X-User-Token": "env-user"}


@contextmanager
def served(state_dir: Path) -> Iterator[httpx.Client]:
    """``avid-sim serve`` in a subprocess, tokens from the environment; a client trusting its certificate."""
    env = {**os.environ, "AVID_SIM_COMPANY_TOKEN": "env-company", "AVID_SIM_USER_TOKEN": "env-user"}
    command = [sys.executable, "-m", "avid_sim", "serve", "--port", "0", "--state-dir", str(state_dir)]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url_line, certificate_line = process.stdout.readline(), process.stdout.readline()
            cert_path = state_dir / "avid-sim-cert.pem"
            assert certificate_line.strip().endswith(certificate_fingerprint(cert_path.read_bytes()))
            tls = ssl.create_default_context(cafile=str(cert_path))
            with httpx.Client(base_url=url_line.split(" at ")[1].strip(), verify=tls, headers=HEADERS) as http:
                yield http
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
    assert process.returncode == 0


def test_serve_answers_and_keeps_its_state_across_restarts(tmp_path: Path) -> None:
    with served(tmp_path) as http:
        assert http.get("/v1/company").status_code == 200
        first = http.post("/v1/vendors/batch", json={"Items": [{"ExternalVendorCode": "01-A", "Name": "A"}]})
    with served(tmp_path) as http:
        [kept] = http.get("/v1/vendors").json()["Items"]
        second = http.post("/v1/vendors/batch", json={"Items": [{"ExternalVendorCode": "01-B", "Name": "B"}]})
    assert kept["Id"] == first.json()["Results"][0]["Item"]["Id"] == "V-1001"
    assert second.json()["Results"][0]["Item"]["Id"] == "V-1002"


def test_an_unreadable_state_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "state.json").write_text("{broken")
    with pytest.raises(SystemExit):
        main(["serve", "--state-dir", str(tmp_path), "--company-token", "c", "--user-token", "u", "--port", "0"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "state.json cannot be read" in err
