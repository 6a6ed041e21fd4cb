"""Run an ASGI app as a real HTTPS server in a background thread (tests, the local stack, the demo)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import uvicorn

from sage_agent.tls import CertificateFiles


@dataclass
class BackgroundServer:
    """A started uvicorn server; ``stop()`` (or leaving the ``with`` block) shuts it down."""

    url: str
    port: int
    certificate: CertificateFiles
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def serve_https_in_thread(
    app: Any,
    certificate: CertificateFiles,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 15.0,
) -> BackgroundServer:
    """Start ``app`` over HTTPS on ``host:port`` (0 picks a free port) and wait until it accepts connections."""
    chosen = port or free_port(host)
    config = uvicorn.Config(
        app,
        host=host,
        port=chosen,
        ssl_certfile=str(certificate.cert_path),
        ssl_keyfile=str(certificate.key_path),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"https-{chosen}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"HTTPS server on {host}:{chosen} did not start")
        time.sleep(0.02)
    return BackgroundServer(f"https://{host}:{chosen}", chosen, certificate, server, thread)
