"""The HTTPS transport to a customer's agent, in one of four TLS modes.

``pinned`` trusts exactly one certificate: the SHA-256 of the server certificate's DER bytes is compared right
after the TLS handshake, inside the connection's network stream, before httpcore writes a single request byte, so a
wrong server never sees the ``X-Agent-Key`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from ml_connector.adapters.backoff import Logger
from ml_connector.connections import AgentTls, TlsMode


class CertificatePinMismatch(Exception):
    """The agent presented a certificate other than the pinned one; the connection was closed unused."""

    def __init__(self, expected: str, actual: str | None) -> None:
        super().__init__(
            f"the agent's certificate has SHA-256 fingerprint {actual or 'unavailable'}, "
            f"the customer's settings pin {expected}; if the agent's certificate was renewed on purpose, "
            "update fingerprint_sha256, otherwise treat this as an interception attempt"
        )
        self.expected = expected
        self.actual = actual


class _PinCheckingStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, fingerprint: str) -> None:
        self._inner = inner
        self._fingerprint = fingerprint

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls_stream = self._inner.start_tls(ssl_context, server_hostname, timeout)
        ssl_object = tls_stream.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(True) if ssl_object is not None else None
        actual = hashlib.sha256(der).hexdigest() if der else None
        if actual is None or not hmac.compare_digest(actual, self._fingerprint):
            tls_stream.close()
            raise CertificatePinMismatch(self._fingerprint, actual)
        return tls_stream


class _PinCheckingBackend(httpcore.NetworkBackend):
    def __init__(self, fingerprint: str) -> None:
        self._inner = httpcore.SyncBackend()
        self._fingerprint = fingerprint

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _PinCheckingStream(stream, self._fingerprint)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport, with its connection pool built on the pin-checking network backend.

    httpx 0.28 takes no network backend, so the pool it builds is replaced by an identical one that has it.
    """

    def __init__(self, fingerprint: str, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> None:
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinCheckingBackend(fingerprint),
        )


def _unverified_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _at_least_tls12(context: ssl.SSLContext) -> ssl.SSLContext:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def system_trust(extra_ca_pem: str | None = None) -> ssl.SSLContext:
    """The system's CAs, plus ``extra_ca_pem`` when given (``create_default_context(cadata=...)`` would load only
    the extra ones), TLS 1.2 or later."""
    context = ssl.create_default_context()
    if extra_ca_pem:
        context.load_verify_locations(cadata=extra_ca_pem)
    return _at_least_tls12(context)


def agent_transport(tls: AgentTls, *, limits: httpx.Limits, logger: Logger, agent_url: str) -> httpx.HTTPTransport:
    """A pooled HTTPS transport trusting the agent the way ``tls`` says. ``insecure`` warns on every call."""
    if tls.mode is TlsMode.PINNED:
        assert tls.fingerprint_sha256 is not None  # guaranteed by AgentTls
        return _PinnedTransport(tls.fingerprint_sha256, _at_least_tls12(_unverified_context()), limits)
    if tls.mode is TlsMode.INSECURE:
        logger.warning(
            f"TLS verification is OFF for the agent at {agent_url}: anyone on the path can read the agent key and "
            "Sage data; switch the customer to tls mode pinned (the agent prints its fingerprint) or ca_bundle"
        )
        context = _unverified_context()
    elif tls.mode is TlsMode.CA_BUNDLE:
        context = ssl.create_default_context(cadata=tls.ca_bundle_pem)
    else:
        context = system_trust()
    return httpx.HTTPTransport(verify=_at_least_tls12(context), limits=limits, trust_env=False)
