"""Builds a running agent from its configuration: backends, certificate, app; and serves it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from sage_agent.app import AgentSettings, create_app
from sage_agent.auth import AgentKeys, ClientPolicy, hash_agent_key
from sage_agent.backend import BackendError, SageBackend
from sage_agent.boi import BoiBackend, BoiSettings, BoiStartupRefused
from sage_agent.boi.com import ComRuntime, ComUnavailable, win32_runtime
from sage_agent.boi.pool import PoolSettings
from sage_agent.boi.session import Login
from sage_agent.client_gate import FailedKeyThrottle
from sage_agent.config import AgentConfig, BoiCompany, ConfigError, SimulatedCompany
from sage_agent.faults import FaultController
from sage_agent.images import FolderImageSource
from sage_agent.sage_time import Clock, SystemClock
from sage_agent.simulated import SimulatedBackend
from sage_agent.tls import CertificateFiles, CertificateKeyMissing, ensure_self_signed_certificate


@dataclass(frozen=True)
class BuiltAgent:
    app: FastAPI
    config: AgentConfig
    certificate: CertificateFiles
    certificate_created: bool


def build_backends(
    config: AgentConfig, clock: Clock, com_runtime: Callable[[], ComRuntime] = win32_runtime
) -> dict[str, SageBackend]:
    """One backend per configured company; ``com_runtime`` gives BOI companies their COM (tests pass a fake)."""
    backends: dict[str, SageBackend] = {}
    for code, company in config.companies.items():
        images = FolderImageSource(company.image_patterns) if company.image_patterns else None
        if isinstance(company, BoiCompany):
            backends[code] = _boi_backend(code, company, clock, com_runtime, images)
            continue
        if isinstance(company, SimulatedCompany):
            if not company.sqlite_path.is_file():
                raise ConfigError(
                    f"companies.{code}.sqlite_path: {company.sqlite_path} does not exist; "
                    f"create it with `sage-agent seed --demo --db {company.sqlite_path}`"
                )
            backend = SimulatedBackend(
                company.sqlite_path,
                clock=clock,
                check_date_window_months=company.check_date_window_months,
                images=images,
            )
            if backend.company_code != code:
                raise ConfigError(
                    f"companies.{code}.sqlite_path: {company.sqlite_path} holds company "
                    f"{backend.company_code or '(none)'}, not {code}"
                )
            backends[code] = backend
    return backends


def _boi_backend(
    code: str,
    company: BoiCompany,
    clock: Clock,
    com_runtime: Callable[[], ComRuntime],
    images: FolderImageSource | None,
) -> BoiBackend:
    try:
        password = company.password_file.read_text("utf-8").strip()
    except OSError as error:
        raise ConfigError(
            f"companies.{code}.password_file: cannot read {company.password_file} ({error.strerror}); write the "
            "Sage user's password into it"
        ) from None
    try:
        runtime = com_runtime()
    except ComUnavailable as error:
        raise ConfigError(f"companies.{code}: {error}") from None
    settings = BoiSettings(
        login=Login(company.sage_home, company.user, password, code),
        pool=PoolSettings(
            size=company.sessions,
            max_age_seconds=company.session_max_age_minutes * 60.0,
            wait_seconds=company.session_wait_seconds,
        ),
    )
    backend = BoiBackend(runtime, settings, clock=clock, images=images)
    try:
        backend.verify_access()
    except BoiStartupRefused as refused:
        backend.close()
        raise ConfigError(f"companies.{code}: {refused}") from None
    except BackendError as error:
        backend.close()
        raise ConfigError(f"companies.{code}: Sage 100 could not be reached: {error.message}") from None
    return backend


def build_agent(
    config: AgentConfig, *, clock: Clock | None = None, com_runtime: Callable[[], ComRuntime] = win32_runtime
) -> BuiltAgent:
    clock = clock or SystemClock()
    try:
        certificate, created = ensure_self_signed_certificate(
            config.tls.cert_file,
            config.tls.key_file,
            hostnames=tuple(config.tls.hostnames),
            ip_addresses=tuple(str(address) for address in config.tls.ip_addresses),
        )
    except CertificateKeyMissing as missing:
        raise ConfigError(str(missing)) from None
    hashes = [*config.auth.agent_key_sha256, *(hash_agent_key(key) for key in config.auth.agent_keys)]
    settings = AgentSettings(
        agent_keys=AgentKeys(hashes),
        clock=clock,
        post_payments=config.agent.post_payments,
        faults=FaultController() if config.agent.faults_enabled else None,
        clients=ClientPolicy(
            allowed=tuple(config.server.allowed_clients),
            throttle=FailedKeyThrottle(
                threshold=config.server.failed_key_threshold, max_delay=config.server.failed_key_max_delay_seconds
            ),
        ),
    )
    app = create_app(build_backends(config, clock, com_runtime), settings)
    return BuiltAgent(app, config, certificate, created)


def server_for(agent: BuiltAgent) -> uvicorn.Server:
    """The HTTPS server of ``agent`` (``run()`` serves until ``should_exit``)."""
    config = agent.config
    return uvicorn.Server(
        uvicorn.Config(
            agent.app,
            host=config.server.host,
            port=config.server.port,
            ssl_certfile=str(agent.certificate.cert_path),
            ssl_keyfile=str(agent.certificate.key_path),
            log_level="info",
        )
    )


def run_agent(agent: BuiltAgent) -> None:
    """Serve until interrupted, after printing what an operator needs (address, companies, fingerprint)."""
    config = agent.config
    state = "created" if agent.certificate_created else "using"
    print(f"{state} certificate {agent.certificate.cert_path}")
    print(f"certificate SHA-256 fingerprint: {agent.certificate.fingerprint_sha256}")
    faults = "ENABLED (test only)" if config.agent.faults_enabled else "off"
    print(f"companies: {', '.join(sorted(config.companies))}; fault controls {faults}")
    print(f"starting on https://{config.server.host}:{config.server.port}", flush=True)
    server_for(agent).run()
