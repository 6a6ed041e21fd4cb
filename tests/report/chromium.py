"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: commands on fd 3, answers
on fd 4, NUL-terminated JSON), so no driver package or websocket client is needed."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
# A bound for a browser that hangs, not a speed expectation: a page load takes well under a second.
ANSWER_TIMEOUT_SECONDS = 60.0


def chromium_binary() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise RuntimeError("chromium is not installed: run scripts/bootstrap (apt-get install chromium)")
    return binary


@dataclass
class PageVisit:
    errors: list[str] = field(default_factory=list)
    """Console errors, uncaught exceptions and failed loads the page caused."""
    screenshot_png: bytes = b""
    evaluated: Any = None


class DevTools:
    def __init__(self, to_browser: int, from_browser: int) -> None:
        self._out, self._in = to_browser, from_browser
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            self.events.append(answer)

    def wait_for(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read()
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + ANSWER_TIMEOUT_SECONDS
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._in], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed


@contextmanager
def chromium(width: int = 1280, height: int = 1600) -> Iterator[tuple[DevTools, str]]:
    """A fresh headless browser (new empty profile) and a session attached to one page."""
    to_read, to_write = _high(os.pipe())
    from_read, from_write = _high(os.pipe())
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            chromium_binary(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]

        def onto_devtools_fds() -> None:  # in the child: the pipe ends on the fds Chromium reads and writes
            os.dup2(to_read, 3)
            os.dup2(from_write, 4)

        # close_fds=False keeps 3 and 4 (made after the fork); every other fd of ours is close-on-exec.
        process = subprocess.Popen(
            command,
            preexec_fn=onto_devtools_fds,  # noqa: PLW1509 - the test process runs no threads that fork
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_read)
        os.close(from_write)
        tools = DevTools(to_write, from_read)
        try:
            target = tools.call("Target.createTarget", url="about:blank")["targetId"]
            session = tools.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            tools.call(
                "Emulation.setDeviceMetricsOverride",
                session,
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            yield tools, session
            tools.call("Browser.close")
            process.wait(timeout=ANSWER_TIMEOUT_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            os.close(to_write)
            os.close(from_read)


def _high(fds: tuple[int, int]) -> tuple[int, int]:
    """The pipe's ends moved to fds 10 and up (close-on-exec), so that putting them on 3 and 4 in the child
    overwrites neither."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved[0], moved[1]


def visit(path: Path, expression: str) -> PageVisit:
    """Load the file, evaluate ``expression`` (JSON-able result), take a full-page screenshot, report errors."""
    with chromium() as (tools, session):
        for domain in ("Runtime", "Log", "Page"):
            tools.call(f"{domain}.enable", session)
        tools.call("Page.navigate", session, url=path.resolve().as_uri())
        tools.wait_for("Page.loadEventFired")
        evaluated = tools.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        shot = tools.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True)
        return PageVisit(
            errors=_errors(tools.events),
            screenshot_png=base64.b64decode(shot["data"]),
            evaluated=evaluated["result"].get("value"),
        )


def _errors(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(json.dumps(params.get("args")))
        elif method == "Runtime.exceptionThrown":
            found.append(json.dumps(params.get("exceptionDetails")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            found.append(params["entry"].get("text", ""))
    return found
