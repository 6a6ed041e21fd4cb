"""Four threads sharing one customer's client stay under the simulator's real rate limit (real clock, HTTPS)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from avid_sim.testing import running_avid
from ml_connector.adapters.avid_client import AvidClient
from ml_connector.connections import AvidConnection
from ml_connector.domain.avid import ACCOUNTING_CODES, AvidVendor, EnterpriseCode

from .test_avid_client_live import ACCOUNT, VENDOR, new_invoice

LOG = logging.getLogger("test.pacing")
IMAGE = b"%PDF-1.4\n" + b"\0" * 4096


def test_60_calls_from_4_threads_under_a_20_per_second_limit_all_succeed(tmp_path: Path) -> None:
    """Client at its defaults (25/s, burst 5) against a server allowing 20/s, burst 5: the odd 429 is absorbed by
    the pacing (a pause for every thread, a lower rate), images included. The time taken is not asserted."""
    with running_avid(tmp_path) as avid:
        connection = AvidConnection(base_url=avid.url, ca_bundle_pem=avid.certificate.cert_path.read_text())
        with AvidClient(connection, avid.company_token, avid.user_token, logger=LOG) as client:
            client.upsert_vendors([AvidVendor(external_vendor_code=VENDOR, name="Acme Concrete")])
            client.upsert_enterprise_codes([EnterpriseCode(group_name=ACCOUNTING_CODES, code_value=ACCOUNT)])
            avid.controls.set_rate_limit(20, burst=5)
            avid.controls.reset_call_stats()

            def push(number: int) -> bool:
                invoice_id = client.create_invoice(new_invoice(f"PACE-{number}")).id
                client.upload_invoice_image(
                    invoice_id, filename=f"{number}.pdf", content_type="application/pdf", content=[IMAGE]
                )
                stored = client.get_invoice(invoice_id)
                return stored is not None and stored.has_image

            with ThreadPoolExecutor(4) as pool:
                pushed = list(pool.map(push, range(20)))
        stats = avid.controls.call_stats()

    assert pushed == [True] * 20
    print(f"60 calls from 4 threads at 20/s burst 5: {stats.rate_limited} answered 429")
    assert stats.answered == 60, "every call answered once: a refused one was sent again, nothing more"
