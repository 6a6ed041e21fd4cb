"""An invoice image goes from the agent to AvidXchange as a stream: chunk by chunk, never whole in memory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from avid_sim.testing import running_avid
from ml_connector.adapters.agent_client import IMAGE_CHUNK_BYTES, AgentClient
from ml_connector.adapters.avid_client import AvidClient
from ml_connector.connections import AgentConnection, AgentTls, AvidConnection, TlsMode
from ml_connector.domain.avid import ACCOUNTING_CODES, AvidVendor, EnterpriseCode
from sage_agent.testing import running_agent

from .test_avid_client_live import ACCOUNT, VENDOR, new_invoice


def test_image_streams_from_the_agent_into_avidxchange(tmp_path: Path) -> None:
    image_bytes = b"\x89PNG\r\n\x1a\n" + os.urandom(3 * 1024 * 1024)
    with running_agent(tmp_path, seed="demo") as agent, running_avid(tmp_path) as avid:
        invoice = agent.backend.open_invoice_keys(limit=1)[0]
        agent.backend.attach_image(*invoice, image_bytes, "image/png")
        sage = AgentClient(
            AgentConnection(
                base_url=agent.url,
                company=agent.company,
                tls=AgentTls(mode=TlsMode.PINNED, fingerprint_sha256=agent.certificate.fingerprint_sha256),
            ),
            agent.agent_key,
        )
        avidx = AvidClient(
            AvidConnection(base_url=avid.url, ca_bundle_pem=avid.certificate.cert_path.read_text()),
            avid.company_token,
            avid.user_token,
        )
        with sage, avidx:
            avidx.upsert_vendors([AvidVendor(external_vendor_code=VENDOR, name="Acme")])
            avidx.upsert_enterprise_codes([EnterpriseCode(group_name=ACCOUNTING_CODES, code_value=ACCOUNT)])
            target = avidx.create_invoice(new_invoice("RELAY-1"))
            chunk_sizes: list[int] = []
            with sage.invoice_image(*invoice) as image:
                assert image is not None
                assert image.size == len(image_bytes)

                def measured(chunks: Iterator[bytes]) -> Iterator[bytes]:
                    for chunk in chunks:
                        chunk_sizes.append(len(chunk))
                        yield chunk

                avidx.upload_invoice_image(
                    target.id,
                    filename=f"{invoice[2]}.png",
                    content_type=image.content_type,
                    content=measured(image.iter_bytes()),
                )
                announced = image.sha256
            stored = avidx.get_invoice(target.id)
    assert stored is not None
    assert stored.has_image
    assert stored.image_sha256 == announced
    assert sum(chunk_sizes) == len(image_bytes)
    assert max(chunk_sizes) <= IMAGE_CHUNK_BYTES
    assert len(chunk_sizes) >= len(image_bytes) // IMAGE_CHUNK_BYTES
