"""How the connector reaches one customer's two systems (no secrets here: those come from Secrets Manager)."""

from __future__ import annotations

import re
import ssl
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, field_validator, model_validator

from ml_connector.model import Model

if TYPE_CHECKING:
    import httpx

HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")


def _loadable_bundle(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ssl.create_default_context(cadata=value)
    except (ssl.SSLError, ValueError) as exc:
        raise ValueError(f"ca_bundle_pem holds no usable PEM certificate ({exc.__class__.__name__})") from None
    return value


class TlsMode(StrEnum):
    SYSTEM = "system"
    CA_BUNDLE = "ca_bundle"
    PINNED = "pinned"
    INSECURE = "insecure"


class AgentTls(Model):
    """How to trust the agent's certificate. ``pinned`` checks the SHA-256 of the server certificate's DER bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: TlsMode = TlsMode.SYSTEM
    ca_bundle_pem: str | None = None
    fingerprint_sha256: str | None = None

    @field_validator("fingerprint_sha256")
    @classmethod
    def _normalise_fingerprint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        hex_digits = value.replace(":", "").replace(" ", "").lower()
        if not re.fullmatch(r"[0-9a-f]{64}", hex_digits):
            raise ValueError("fingerprint_sha256 must be 64 hex digits (colons allowed), the SHA-256 of the DER cert")
        return hex_digits

    _check_bundle = field_validator("ca_bundle_pem")(_loadable_bundle)

    @model_validator(mode="after")
    def _fields_match_mode(self) -> AgentTls:
        if self.mode is TlsMode.CA_BUNDLE and not self.ca_bundle_pem:
            raise ValueError("tls mode ca_bundle needs ca_bundle_pem")
        if self.mode is TlsMode.PINNED and not self.fingerprint_sha256:
            raise ValueError("tls mode pinned needs fingerprint_sha256")
        if self.mode is not TlsMode.CA_BUNDLE and self.ca_bundle_pem:
            raise ValueError(f"ca_bundle_pem is only used with tls mode ca_bundle, not {self.mode}")
        if self.mode is not TlsMode.PINNED and self.fingerprint_sha256:
            raise ValueError(f"fingerprint_sha256 is only used with tls mode pinned, not {self.mode}")
        return self


class Timeouts(Model):
    """Seconds. ``pool`` is how long a call may wait for a free connection when all are in use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect: float = Field(default=5.0, gt=0)
    read: float = Field(default=30.0, gt=0)
    write: float = Field(default=30.0, gt=0)
    pool: float = Field(default=60.0, gt=0)

    def as_httpx(self) -> httpx.Timeout:
        import httpx  # noqa: PLC0415 - only the clients need it; the settings load without it

        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


def _https_base_url(value: str) -> str:
    try:
        url = urlsplit(value)
    except ValueError:
        raise ValueError(f"base_url {value!r} is not a URL") from None
    if url.scheme != "https" or not url.hostname:
        raise ValueError(f"base_url {value!r} must be an https:// URL with a host")
    if url.query or url.fragment:
        raise ValueError(f"base_url {value!r} must not carry a query or fragment")
    return value.rstrip("/")


class AgentConnection(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    company: str = Field(pattern=r"^[A-Z0-9]{3}$")
    tls: AgentTls = AgentTls()
    timeouts: Timeouts = Timeouts()
    page_size: int = Field(default=500, ge=1, le=1000)
    max_connections: int = Field(default=4, ge=1, le=32)

    _check_base_url = field_validator("base_url")(_https_base_url)


class AvidConnection(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    company_token_header: str = Field(default="X-Company-Token", pattern=HEADER_NAME.pattern)
    user_token_header: str = Field(default="X-User-Token", pattern=HEADER_NAME.pattern)
    max_in_flight: int = Field(default=4, ge=1, le=32)
    requests_per_second: float = Field(
        default=25.0,
        gt=0,
        le=1000,
        description=(
            "Calls per second the client paces itself to (a token bucket per customer). AvidXchange's limit is not"
            " published: 25 is an assumption, set the customer's real limit when known. After a 429 the client"
            " slows to 70% of its pace and wins it back gradually."
        ),
    )
    request_burst: int = Field(
        default=5,
        ge=1,
        le=1000,
        description=(
            "Calls the client may send at once before pacing starts. Keep it below AvidXchange's own burst, so calls"
            " that reach it bunched up by network delays are not refused."
        ),
    )
    timeouts: Timeouts = Timeouts()
    page_size: int = Field(default=500, ge=1, le=500)
    # Extra CAs to trust besides the system's (a sandbox or the local simulator); None in production.
    ca_bundle_pem: str | None = None

    _check_bundle = field_validator("ca_bundle_pem")(_loadable_bundle)

    _check_base_url = field_validator("base_url")(_https_base_url)
