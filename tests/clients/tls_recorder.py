"""A bare TLS server that records what each client sent after the handshake, and answers one JSON body."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sage_agent.tls import CertificateFiles


@dataclass
class TlsRecorder:
    certificate: CertificateFiles
    body: dict[str, Any]
    hold_seconds: float = 0.0
    received: list[bytes] = field(default_factory=list)
    max_concurrent: int = 0
    _active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sock: socket.socket | None = None

    @property
    def url(self) -> str:
        assert self._sock is not None
        return f"https://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> TlsRecorder:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate.cert_path, self.certificate.key_path)
        self._sock = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._serve, args=(context, self._sock), daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._sock is not None
        self._sock.close()

    def _serve(self, context: ssl.SSLContext, listener: socket.socket) -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(context, raw), daemon=True).start()

    def handled(self, count: int) -> list[bytes]:
        """What the clients sent, once ``count`` connections are finished (the server runs in its own threads)."""
        deadline = time.monotonic() + 10
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.received)

    def _hold(self) -> None:
        """Keep the request in flight a while, counting how many are in flight together."""
        with self._lock:
            self._active += 1
            self.max_concurrent = max(self.max_concurrent, self._active)
        time.sleep(self.hold_seconds)
        with self._lock:
            self._active -= 1

    def _handle(self, context: ssl.SSLContext, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            with context.wrap_socket(raw, server_side=True) as tls:
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = tls.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except (OSError, ssl.SSLError):
                    pass
                self.received.append(data)
                if data:
                    self._hold()
                    payload = json.dumps(self.body).encode()
                    tls.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                        + payload
                    )
        except (OSError, ssl.SSLError):
            self.received.append(b"")
