"""The agent's TOML configuration file: bind address, TLS files, agent keys, companies and their backends.

Relative paths are resolved against the file's folder. Every bad value raises ``ConfigError`` with one
message naming the file and the key.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyAddress,
    IPvAnyNetwork,
    ValidationError,
    model_validator,
)

from sage_agent.images import check_pattern
from sage_agent.records import dotted_field


class ConfigError(Exception):
    pass


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(_Section):
    host: str = "0.0.0.0"  # noqa: S104 - the agent serves the connector over the network
    port: int = Field(default=8443, ge=1, le=65535)
    allowed_clients: list[IPvAnyNetwork] = Field(
        default_factory=list, description="client CIDRs answered at all (empty: any); others get 403"
    )
    failed_key_threshold: int = Field(default=3, ge=1, le=1000, description="failed keys before slowing")
    failed_key_max_delay_seconds: float = Field(default=30.0, ge=0, le=600)


class TlsConfig(_Section):
    cert_file: Path = Path("tls/agent.crt")
    key_file: Path = Path("tls/agent.key")
    hostnames: list[str] = Field(default_factory=lambda: ["localhost"], description="DNS names of a new certificate")
    ip_addresses: list[IPvAnyAddress] = Field(default_factory=lambda: [ipaddress.ip_address("127.0.0.1")])


class AuthConfig(_Section):
    agent_key_sha256: list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = Field(default_factory=list)
    agent_keys: list[Annotated[str, Field(min_length=16)]] = Field(
        default_factory=list, description="plain keys; prefer agent_key_sha256"
    )

    @model_validator(mode="after")
    def _at_least_one(self) -> AuthConfig:
        if not self.agent_key_sha256 and not self.agent_keys:
            raise ValueError("set agent_key_sha256 (SHA-256 hex of each key; see `sage-agent hash-key`)")
        return self


class AgentOptions(_Section):
    faults_enabled: bool = False
    post_payments: bool = True


class _Company(_Section):
    image_patterns: list[Annotated[str, AfterValidator(check_pattern)]] = Field(
        default_factory=list, description="where scanned invoices are kept as files (see sage_agent.images)"
    )


class SimulatedCompany(_Company):
    kind: Literal["simulated"]
    sqlite_path: Path
    check_date_window_months: int = Field(default=1, ge=0, le=12)


class BoiCompany(_Company):
    kind: Literal["boi"]
    sage_home: Path = Field(description="the MAS90\\Home folder of the Sage 100 installation")
    user: str = Field(min_length=1, description="the Sage 100 user the agent logs in as")
    password_file: Path = Field(description="a file holding that user's password, readable by the service only")
    sessions: int = Field(default=4, ge=1, le=32)
    session_max_age_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_wait_seconds: float = Field(default=2.0, ge=0, le=60)


CompanyConfig = Annotated[SimulatedCompany | BoiCompany, Field(discriminator="kind")]


class AgentConfig(_Section):
    server: ServerConfig = Field(default_factory=ServerConfig)
    tls: TlsConfig = Field(default_factory=TlsConfig)
    auth: AuthConfig
    agent: AgentOptions = Field(default_factory=AgentOptions)
    companies: dict[Annotated[str, Field(pattern=r"^[A-Z0-9]{3}$")], CompanyConfig] = Field(min_length=1)

    def resolved(self, base: Path) -> AgentConfig:
        """Relative paths made absolute against ``base`` (the config file's folder)."""

        def absolute(path: Path) -> Path:
            return path if path.is_absolute() else (base / path).resolve()

        def patterns(company: _Company) -> list[str]:
            return [str(absolute(Path(pattern))) for pattern in company.image_patterns]

        companies: dict[str, SimulatedCompany | BoiCompany] = {
            code: company.model_copy(
                update={"sqlite_path": absolute(company.sqlite_path), "image_patterns": patterns(company)}
            )
            if isinstance(company, SimulatedCompany)
            else company.model_copy(
                update={"password_file": absolute(company.password_file), "image_patterns": patterns(company)}
            )
            for code, company in self.companies.items()
        }
        tls = self.tls.model_copy(
            update={"cert_file": absolute(self.tls.cert_file), "key_file": absolute(self.tls.key_file)}
        )
        return self.model_copy(update={"tls": tls, "companies": companies})


def load_config(path: Path) -> AgentConfig:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; create one with `sage-agent init --dir DIR`")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        config = AgentConfig.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = dotted_field(tuple(first["loc"])) if first["loc"] else "(top level)"
        more = f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else ""
        raise ConfigError(f"{path}: {where}: {first['msg']}{more}") from None
    return config.resolved(path.parent)


def starter_config(key_sha256: str, *, port: int, sqlite_path: str) -> str:
    """The text ``sage-agent init`` writes."""
    return f"""# Sage 100 agent configuration. Relative paths are relative to this file.

[server]
host = "0.0.0.0"
port = {port}

[tls]
# Created (self-signed) on first start when absent; the fingerprint is printed for pinning.
cert_file = "tls/agent.crt"
key_file = "tls/agent.key"
# Names the connector uses to reach this server (only used when a new certificate is created).
hostnames = ["localhost"]
ip_addresses = ["127.0.0.1"]

[auth]
# SHA-256 hex of each accepted X-Agent-Key (`sage-agent hash-key` computes it).
agent_key_sha256 = ["{key_sha256}"]

[agent]
# Record manual checks as posted (the manual check register update) right away.
post_payments = true
# Test-only fault controls (/v1/_faults). Never enable in production.
faults_enabled = false

[companies.RCC]
kind = "simulated"
sqlite_path = "{sqlite_path}"
# Check dates are accepted within the AP module date's month +/- this many months.
check_date_window_months = 1

# Scanned invoices kept as files (placeholders {{APDivisionNo}} {{VendorNo}} {{InvoiceNo}} {{InvoiceDate}}):
# image_patterns = ['D:\\Scans\\{{VendorNo}}\\{{InvoiceNo}}.*']

# A real company through the Business Object Interface (Windows, see agent/README.md):
# [companies.ABC]
# kind = "boi"
# sage_home = 'C:\\Sage\\Sage 100\\MAS90\\Home'
# user = "avidsync"
# password_file = 'C:\\ml-connector\\agent\\sage-password.txt'
# sessions = 4
"""
