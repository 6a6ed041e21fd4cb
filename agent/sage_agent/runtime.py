"""Builds a running agent from its configuration: backends, certificate, app; and serves it."""

from __future__ import annotations

from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from sage_agent.app import AgentSettings, create_app
from sage_agent.auth import AgentKeys, hash_agent_key
from sage_agent.backend import SageBackend
from sage_agent.boi import BoiBackendUnavailable, open_boi_backend
from sage_agent.config import AgentConfig, ConfigError, SimulatedCompany
from sage_agent.faults import FaultController
from sage_agent.sage_time import Clock, SystemClock
from sage_agent.simulated import SimulatedBackend
from sage_agent.tls import CertificateFiles, ensure_self_signed_certificate


@dataclass(frozen=True)
class BuiltAgent:
    app: FastAPI
    config: AgentConfig
    certificate: CertificateFiles
    certificate_created: bool


def build_backends(config: AgentConfig, clock: Clock) -> dict[str, SageBackend]:
    backends: dict[str, SageBackend] = {}
    for code, company in config.companies.items():
        if isinstance(company, SimulatedCompany):
            if not company.sqlite_path.is_file():
                raise ConfigError(
                    f"companies.{code}.sqlite_path: {company.sqlite_path} does not exist; "
                    f"create it with `sage-agent seed --demo --db {company.sqlite_path}`"
                )
            backend = SimulatedBackend(
                company.sqlite_path, clock=clock, check_date_window_months=company.check_date_window_months
            )
            if backend.company_code != code:
                raise ConfigError(
                    f"companies.{code}.sqlite_path: {company.sqlite_path} holds company "
                    f"{backend.company_code or '(none)'}, not {code}"
                )
            backends[code] = backend
        else:
            try:
                open_boi_backend(code, company.sage_home)
            except BoiBackendUnavailable as error:
                raise ConfigError(f"companies.{code}: {error}") from None
    return backends


def build_agent(config: AgentConfig, *, clock: Clock | None = None) -> BuiltAgent:
    clock = clock or SystemClock()
    certificate, created = ensure_self_signed_certificate(
        config.tls.cert_file,
        config.tls.key_file,
        hostnames=tuple(config.tls.hostnames),
        ip_addresses=tuple(str(address) for address in config.tls.ip_addresses),
    )
    hashes = [*config.auth.agent_key_sha256, *(hash_agent_key(key) for key in config.auth.agent_keys)]
    settings = AgentSettings(
        agent_keys=AgentKeys(hashes),
        clock=clock,
        post_payments=config.agent.post_payments,
        faults=FaultController() if config.agent.faults_enabled else None,
    )
    app = create_app(build_backends(config, clock), settings)
    return BuiltAgent(app, config, certificate, created)


def run_agent(agent: BuiltAgent) -> None:
    """Serve until interrupted, after printing what an operator needs (address, companies, fingerprint)."""
    config = agent.config
    state = "created" if agent.certificate_created else "using"
    print(f"{state} certificate {agent.certificate.cert_path}")
    print(f"certificate SHA-256 fingerprint: {agent.certificate.fingerprint_sha256}")
    faults = "ENABLED (test only)" if config.agent.faults_enabled else "off"
    print(f"companies: {', '.join(sorted(config.companies))}; fault controls {faults}")
    print(f"starting on https://{config.server.host}:{config.server.port}", flush=True)
    uvicorn.run(
        agent.app,
        host=config.server.host,
        port=config.server.port,
        ssl_certfile=str(agent.certificate.cert_path),
        ssl_keyfile=str(agent.certificate.key_path),
        log_level="info",
    )
