"""A customer whose Sage 100 company (the agent's demo company) is mirrored into the AvidXchange simulator as the
connector would leave it, with the connector's mappings; tests then plant drift on either side."""

from __future__ import annotations

from typing import Protocol

from pydantic import SecretStr

from avid_sim.controls import AvidControls
from avid_sim.payments import InvoicePayment
from avid_sim.testing import RunningAvid
from ml_connector.adapters.agent_client import AgentClient
from ml_connector.adapters.avid_client import AvidClient
from ml_connector.adapters.secrets import CustomerSecrets
from ml_connector.customers import Customer
from ml_connector.domain.avid import CodeRef, Distribution, EnterpriseCode, NewInvoice
from ml_connector.domain.gl_mapping import ACCOUNTING_CODES_GROUP, account_code, segment_group_name, segment_value_code
from ml_connector.domain.sage import OpenInvoice
from ml_connector.domain.vendor_mapping import to_avid_vendor
from ml_connector.reconcile import page_items
from ml_connector.state.models import KeyMapping, MappingState
from sage_agent.testing import RunningAgent
from tests.fakes import FakeStateStore
from tests.support.customers import UTC_NOON, customer_item


def live_customer(customer_id: str, agent: RunningAgent, avid: RunningAvid, **overrides: object) -> Customer:
    """A customer item pointing at a running agent (pinned certificate) and AvidXchange simulator."""
    return Customer.model_validate(
        customer_item(
            customer_id,
            agent={
                "base_url": agent.url,
                "company": agent.company,
                "tls": {"mode": "pinned", "fingerprint_sha256": agent.certificate.fingerprint_sha256},
            },
            avid={
                "base_url": avid.url,
                "ca_bundle_pem": avid.certificate.cert_path.read_text(encoding="utf-8"),
                # The simulator here has no rate limit: the client's pacing would only slow the test down.
                "requests_per_second": 1000.0,
                "request_burst": 1000,
            },
            **overrides,
        )
    )


def secrets_of(agent: RunningAgent, avid: RunningAvid) -> CustomerSecrets:
    return CustomerSecrets(
        agent_key=SecretStr(agent.agent_key),
        avid_company_token=SecretStr(avid.company_token),
        avid_user_token=SecretStr(avid.user_token),
    )


class MemoryMappings(FakeStateStore):
    """The connector's state in memory, with a per-kind view of the key mappings reconciliation reads."""

    @property
    def by_kind(self) -> dict[str, dict[str, KeyMapping]]:
        view: dict[str, dict[str, KeyMapping]] = {}
        for (_, kind, key), mapping in self.mappings.items():
            view.setdefault(kind, {})[key] = mapping
        return view

    def drop(self, kind: str, source_key: str) -> None:
        self.mappings = {k: m for k, m in self.mappings.items() if k[1:] != (kind, source_key)}


class MappingSink(Protocol):
    def put_mapping(self, mapping: KeyMapping) -> None: ...


def synced(customer_id: str, kind: str, source_key: str, remote_id: str) -> KeyMapping:
    return KeyMapping(
        customer_id=customer_id,
        kind=kind,
        source_key=source_key,
        state=MappingState.SYNCED,
        remote_id=remote_id,
        synced_at=UTC_NOON,
    )


def sage_invoices(agent: AgentClient) -> list[OpenInvoice]:
    return list(page_items(lambda cursor: agent.open_invoices_page(updated_since=None, cursor=cursor)))


def new_invoice(invoice: OpenInvoice) -> NewInvoice:
    return NewInvoice(
        number=invoice.invoice_no,
        vendor_external_code=f"{invoice.ap_division_no}-{invoice.vendor_no}",
        invoice_date=invoice.invoice_date,
        due_date=invoice.invoice_due_date,
        gross_amount=invoice.invoice_amt,
        distributions=[
            Distribution(
                amount=line.distribution_amt,
                enterprise_codes=[CodeRef(group_name=ACCOUNTING_CODES_GROUP, code_value=line.account)],
            )
            for line in invoice.lines
        ]
        or [Distribution(amount=invoice.invoice_amt, enterprise_codes=[])],
    )


def mirror_company(
    customer: Customer, agent: AgentClient, avid: AvidClient, controls: AvidControls, mappings: MappingSink
) -> int:
    """Make AvidXchange hold what the connector would have sent, and record the mappings; returns the number of
    invoices mirrored. Vendors and codes go in active first, so that invoices of on-hold vendors or on inactive
    accounts can be created, and then take their real Sage status. What Sage shows as partly paid is paid as much in
    AvidXchange (as if paid there and posted)."""
    vendors = [to_avid_vendor(v) for v in page_items(lambda c: agent.vendors_page(updated_since=None, cursor=c))]
    segment = next(s for s in agent.gl_segments() if s.segment_no == customer.cost_center_segment)
    values = page_items(
        lambda c: agent.segment_values_page(segment_no=segment.segment_no, updated_since=None, cursor=c)
    )
    codes: list[EnterpriseCode] = [segment_value_code(v, segment_group_name(segment)) for v in values]
    codes += [account_code(a) for a in page_items(lambda c: agent.gl_accounts_page(updated_since=None, cursor=c))]
    avid.upsert_vendors([v.model_copy(update={"active": True}) for v in vendors])
    avid.upsert_enterprise_codes([c.model_copy(update={"is_active": True}) for c in codes])
    mirrored = 0
    for invoice in sage_invoices(agent):
        if invoice.invoice_date < customer.invoice_start_date or not invoice.lines:
            continue
        created = avid.create_invoice(new_invoice(invoice))
        mappings.put_mapping(synced(customer.customer_id, "invoice", invoice.key, created.id))
        if invoice.balance != invoice.invoice_amt:
            controls.approve(created.id)
            controls.pay([InvoicePayment(created.id, amount=invoice.invoice_amt - invoice.balance)])
        mirrored += 1
    for result in avid.upsert_vendors(vendors):
        assert result.successful, result.errors
        assert result.id is not None
        mappings.put_mapping(synced(customer.customer_id, "vendor", result.item["ExternalVendorCode"], result.id))
    assert all(r.successful for r in avid.upsert_enterprise_codes(codes))
    return mirrored
