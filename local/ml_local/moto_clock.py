"""moto server with SQS on a clock of our own: it can run N times faster than the wall clock and can be moved ahead.

SQS is where AWS's time shows up in the connector's behaviour (message delays, visibility timeouts, the retry
function's back-off of 2, 6, 18, ... minutes), and moto's SQS reads time only through ``unix_time`` and
``unix_time_millis``, imported into ``moto.sqs.models``. Replacing those two names in this process (moto's state is
per process) puts every delay and visibility timeout on the compressed clock; every other service keeps the wall
clock.

Run as ``python -m ml_local.moto_clock --scale 60 -H 127.0.0.1 -p 4566``. The driver reaches the clock through
``/_ml_local/clock`` on the same address (see ``ml_local.aws.SqsClockClient``):

    GET  /_ml_local/clock               {"now": <SQS epoch seconds>, "scale": <factor>}
    POST /_ml_local/clock/skip          {"queues": [names], "max_seconds": s} -> {"skipped": seconds or null}
         moves the clock to the moment the first hidden (in flight or delayed) message of those queues becomes
         visible, if that is within max_seconds: what an idle poller would live through, without the wait.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

CLOCK_PATH = "/_ml_local/clock"
SKIP_PATH = "/_ml_local/clock/skip"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class CompressedClock:
    """Seconds since the epoch that run ``scale`` times as fast as the wall clock from start, plus any skips."""

    def __init__(self, scale: float = 1.0, wall: Callable[[], float] = time.time) -> None:
        if scale <= 0:
            raise ValueError(f"the clock scale must be positive, not {scale}")
        self.scale = scale
        self._wall = wall
        self._lock = threading.Lock()
        self._wall_anchor = wall()
        self._anchor = self._wall_anchor

    def now(self) -> float:
        with self._lock:
            return self._anchor + (self._wall() - self._wall_anchor) * self.scale

    def skip(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock never goes back")
        with self._lock:
            self._anchor += seconds


def _naive_utc(value: dt.datetime | None) -> float | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC).timestamp()


def install_on_sqs(clock: CompressedClock) -> None:
    """Make moto's SQS read ``clock``: the names ``moto.sqs.models`` imported from ``moto.core.utils``."""
    import moto.sqs.models as sqs_models  # noqa: PLC0415 - only the moto server process imports moto

    def unix_time(value: dt.datetime | None = None) -> float:
        explicit = _naive_utc(value)
        return clock.now() if explicit is None else explicit

    def unix_time_millis(value: dt.datetime | None = None) -> float:
        return unix_time(value) * 1000.0

    vars(sqs_models).update(unix_time=unix_time, unix_time_millis=unix_time_millis)


def next_visible_at(queue_names: Iterable[str], now_ms: float) -> float | None:
    """The earliest moment (ms) a hidden message of these queues becomes visible, or None when none is hidden."""
    from moto.sqs.models import sqs_backends  # noqa: PLC0415

    wanted = set(queue_names)
    moments: list[float] = []
    for account in sqs_backends.values():
        for backend in account.values():
            for name, queue in backend.queues.items():
                if name not in wanted:
                    continue
                for message in list(queue._messages):  # moto has no public view of hidden messages
                    moments += [m for m in (message.visible_at, message.delayed_until) if m and m >= now_ms]
    return min(moments) if moments else None


def with_clock_routes(app: WsgiApp, clock: CompressedClock) -> WsgiApp:
    """The moto application, plus the two clock routes."""

    def reply(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
        payload = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    def routed(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == CLOCK_PATH:
            return reply(start_response, "200 OK", {"now": clock.now(), "scale": clock.scale})
        if path == SKIP_PATH and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = json.loads(environ["wsgi.input"].read(length) or b"{}")
            now_ms = clock.now() * 1000
            moment = next_visible_at(request.get("queues", []), now_ms)
            if moment is None or (moment - now_ms) / 1000 > float(request.get("max_seconds", 0)):
                return reply(start_response, "200 OK", {"skipped": None})
            # moto counts a message visible strictly after visible_at: land one millisecond past it.
            seconds = (moment - now_ms + 1) / 1000
            clock.skip(seconds)
            return reply(start_response, "200 OK", {"skipped": seconds})
        return app(environ, start_response)

    return routed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ml_local.moto_clock", description="moto server with a compressed clock")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--scale", type=float, default=1.0, help="how many SQS seconds pass per wall-clock second")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error(f"--scale must be positive, not {args.scale}")
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple  # noqa: PLC0415

    from ml_local.moto_queries import install as install_queries  # noqa: PLC0415
    from ml_local.moto_transactions import install as install_transactions  # noqa: PLC0415

    clock = CompressedClock(args.scale)
    install_on_sqs(clock)
    install_transactions()
    install_queries()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, with_clock_routes(app, clock), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
