"""Ping: the first thing a new customer runs. Checks the agent (health, company) and AvidConnect (company) with the
customer's real credentials, and says plainly what is wrong."""

from __future__ import annotations

import contextlib
import datetime as dt

from ml_connector.customers import Customer
from ml_connector.errors import ConnectorError
from ml_connector.model import Model
from ml_connector.ports import OpenSystems


class SystemCheck(Model):
    ok: bool
    detail: str


class PingReport(Model):
    customer_id: str
    ok: bool
    agent: SystemCheck
    avid: SystemCheck
    agent_clock_offset_seconds: float | None = None
    """The agent's clock minus UTC: includes the Sage server's time zone offset and its clock skew."""


def ping_customer(customer: Customer, open_systems: OpenSystems) -> PingReport:
    offset: float | None = None
    with contextlib.ExitStack() as opened:
        try:
            agent, avid = opened.enter_context(open_systems(customer))
        except ConnectorError as error:  # no usable credentials: neither system can be asked
            problem = SystemCheck(ok=False, detail=str(error))
            return PingReport(customer_id=customer.customer_id, ok=False, agent=problem, avid=problem)
        try:
            health = agent.health()
            company = agent.ping()
            offset = (health.server_time - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds()
            agent_check = SystemCheck(
                ok=True,
                detail=f"agent {health.agent_version}, Sage {health.sage_version}, company {company.company_code} "
                f"{company.company_name}, AP divisions {'on' if company.ap_divisions_enabled else 'off'}, "
                f"bank codes {', '.join(company.bank_codes)}",
            )
            if customer.bank_code not in company.bank_codes:
                agent_check = SystemCheck(
                    ok=False, detail=f"{agent_check.detail}; bank code {customer.bank_code} is not one of them"
                )
        except ConnectorError as error:
            agent_check = SystemCheck(ok=False, detail=str(error))
        try:
            avid_company = avid.company()
            avid_check = SystemCheck(
                ok=True, detail=f"AvidXchange company {avid_company.company_id} {avid_company.name}"
            )
        except ConnectorError as error:
            avid_check = SystemCheck(ok=False, detail=str(error))
    return PingReport(
        customer_id=customer.customer_id,
        ok=agent_check.ok and avid_check.ok,
        agent=agent_check,
        avid=avid_check,
        agent_clock_offset_seconds=offset,
    )
