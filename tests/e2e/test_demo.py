"""The README's first command runs the whole system end to end and reports what moved."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def test_the_demo_runs_end_to_end_and_reports(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ml_local", "--work-dir", str(tmp_path), "demo", "--exit"],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ping redrock-demo: ok" in out
    assert re.search(r"dispatcher queued: redrock-demo:vendors>gl>invoices>payments", out)
    assert re.search(r"^\s+vendors\s+succeeded", out, re.MULTILINE)
    assert re.search(r"^\s+invoices\s+(succeeded|partial)", out, re.MULTILINE)
    held = re.search(r"holds (\d+) vendors .* (\d+) invoices \((\d+) with images\)", out)
    assert held is not None and int(held.group(2)) > 400 and int(held.group(3)) > 300
    assert re.search(r"Sage 100 received 3 manual checks", out)
    assert "Traceback" not in out + result.stderr
    assert (tmp_path / "stack.json").exists()
    page = (tmp_path / "status.html").read_text(encoding="utf-8")
    assert f"wrote {tmp_path / 'status.html'}" in out
    assert "redrock-demo" in page and "<svg" in page, "the demo writes the customer's status page, with its charts"
