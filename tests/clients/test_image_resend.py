"""An image upload refused or broken off is sent again from its temp-file copy: the agent's image is read once."""

from __future__ import annotations

import hashlib
import logging
import math
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from avid_sim.faults import FaultKind
from avid_sim.testing import RunningAvid, running_avid
from ml_connector.adapters.avid_client import AvidClient
from ml_connector.adapters.backoff import BackoffPolicy
from ml_connector.adapters.pacing import Pacer
from ml_connector.adapters.shared_turns import SharedTurns
from ml_connector.connections import AvidConnection
from ml_connector.domain.avid import ACCOUNTING_CODES, AvidVendor, EnterpriseCode
from ml_connector.errors import RetryLater
from tests.fakes import FakeCallSchedule

from .conftest import FakeTime
from .test_avid_client_live import ACCOUNT, VENDOR, new_invoice
from .test_spooled_chunks import open_files_in

CHUNK = 64 * 1024
IMAGE_ENDPOINT = ("POST", "/v1/invoices/{Id}/image")
PNG = b"\x89PNG\r\n\x1a\n"


class AgentImage:
    """A PNG handed over chunk by chunk, each made as it is read (as the agent's download does); counts the passes
    over it, the chunks read, and the temp files open when the last chunk was read."""

    def __init__(self, size: int, spool_directory: Path) -> None:
        self.size = size
        self.spool_directory = spool_directory
        self.passes = 0
        self.read = 0
        self.spools_open_at_the_end = -1
        digest = hashlib.sha256()
        for chunk in self._chunks():
            digest.update(chunk)
        self.sha256 = digest.hexdigest()

    def _chunks(self) -> Iterator[bytes]:
        for offset in range(0, self.size, CHUNK):
            length = min(CHUNK, self.size - offset)
            head = PNG if offset == 0 else b""
            yield head + bytes([offset // CHUNK % 256]) * (length - len(head))

    def __iter__(self) -> Iterator[bytes]:
        self.passes += 1
        for chunk in self._chunks():
            self.read += 1
            yield chunk
        self.spools_open_at_the_end = open_files_in(self.spool_directory)

    @property
    def chunk_count(self) -> int:
        return -(-self.size // CHUNK)


@pytest.fixture(scope="module")
def avid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAvid]:
    with running_avid(tmp_path_factory.mktemp("avid-resend")) as sim:
        with AvidClient(connection_for(sim), sim.company_token, sim.user_token) as setup:
            setup.upsert_vendors([AvidVendor(external_vendor_code=VENDOR, name="Acme Concrete")])
            setup.upsert_enterprise_codes([EnterpriseCode(group_name=ACCOUNTING_CODES, code_value=ACCOUNT)])
        yield sim


@pytest.fixture(autouse=True)
def _no_faults(avid: RunningAvid) -> Iterator[None]:
    avid.controls.reset_faults()
    yield
    avid.controls.reset_faults()


def connection_for(avid: RunningAvid) -> AvidConnection:
    return AvidConnection(base_url=avid.url, ca_bundle_pem=avid.certificate.cert_path.read_text())


@pytest.fixture
def spool_directory(tmp_path: Path) -> Path:
    return tmp_path


class CountedTurns(SharedTurns):
    """Turns on a customer's shared schedule, counted as they are taken."""

    taken = 0

    def wait(self, *, max_wait: float = math.inf) -> None:
        super().wait(max_wait=max_wait)
        self.taken += 1


@pytest.fixture
def schedule() -> FakeCallSchedule:
    return FakeCallSchedule()


@pytest.fixture
def turns(schedule: FakeCallSchedule, pacer_time: FakeTime) -> CountedTurns:
    return CountedTurns(schedule, "c", 25.0, clock=pacer_time.clock, sleep=pacer_time.sleep)


@pytest.fixture
def client(
    avid: RunningAvid,
    policy_for: Callable[..., BackoffPolicy],
    fake_pacer: Pacer,
    turns: CountedTurns,
    spool_directory: Path,
) -> Iterator[AvidClient]:
    with AvidClient(
        connection_for(avid),
        avid.company_token,
        avid.user_token,
        retry_policy=policy_for(),
        pacer=fake_pacer,
        shared_turns=turns,
        spool_directory=str(spool_directory),
        logger=logging.getLogger("test.resend"),
    ) as built:
        yield built


def upload(client: AvidClient, number: str, image: AgentImage) -> str:
    invoice_id = client.create_invoice(new_invoice(number)).id
    client.upload_invoice_image(invoice_id, filename=f"{number}.png", content_type="image/png", content=image)
    return invoice_id


def faults_fired_during(avid: RunningAvid, action: Callable[[], str]) -> tuple[str, list[FaultKind]]:
    before = len(avid.controls.faults.fired)
    result = action()
    return result, [kind for kind, *_ in avid.controls.faults.fired[before:]]


def stored_sha256(client: AvidClient, invoice_id: str) -> str | None:
    invoice = client.get_invoice(invoice_id)
    assert invoice is not None
    return invoice.image_sha256 if invoice.has_image else None


def test_an_upload_refused_with_429_is_sent_again_without_reading_the_image_again(
    client: AvidClient, avid: RunningAvid, spool_directory: Path, fake_time: FakeTime, pacer_time: FakeTime
) -> None:
    image = AgentImage(3 * 1024 * 1024 + 5, spool_directory)
    avid.controls.inject(FaultKind.RATE_LIMIT, next_calls=2, endpoint=IMAGE_ENDPOINT, retry_after=2)

    invoice_id, fired = faults_fired_during(avid, lambda: upload(client, "RESEND-429", image))

    assert stored_sha256(client, invoice_id) == image.sha256
    assert fired == [FaultKind.RATE_LIMIT] * 2
    assert (image.passes, image.read) == (1, image.chunk_count)
    assert fake_time.sleeps == [2.0, 2.0], "the retry policy honoured Retry-After"
    assert sum(pacer_time.sleeps) >= 4.0, "and so did the pace of every call"
    assert image.spools_open_at_the_end == 1
    assert open_files_in(spool_directory) == 0
    assert list(spool_directory.iterdir()) == []


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": FaultKind.SERVER_ERROR, "status": 503, "processed": True},
        {"kind": FaultKind.SERVER_ERROR, "status": 500},
        {"kind": FaultKind.DROP, "processed": True},
    ],
    ids=["503-after-storing", "500", "dropped-after-storing"],
)
def test_an_upload_with_an_unknown_outcome_is_sent_again_since_a_second_upload_replaces_the_first(
    client: AvidClient, avid: RunningAvid, spool_directory: Path, fault: dict[str, object]
) -> None:
    image = AgentImage(200 * 1024, spool_directory)
    avid.controls.inject(next_calls=1, endpoint=IMAGE_ENDPOINT, **fault)  # type: ignore[arg-type]

    number = f"RESEND-{fault['kind']}-{fault.get('status')}"
    invoice_id, fired = faults_fired_during(avid, lambda: upload(client, number, image))

    assert stored_sha256(client, invoice_id) == image.sha256
    assert fired == [fault["kind"]]
    assert (image.passes, image.read) == (1, image.chunk_count)
    assert open_files_in(spool_directory) == 0


def test_an_image_broken_off_at_the_agent_is_not_sent_again_and_its_copy_is_closed(
    client: AvidClient, avid: RunningAvid, spool_directory: Path
) -> None:
    def breaking() -> Iterator[bytes]:
        yield PNG + b"\0" * CHUNK
        raise RetryLater("image download broke off")

    invoice_id = client.create_invoice(new_invoice("RESEND-BROKEN")).id
    with pytest.raises(RetryLater, match="broke off"):
        client.upload_invoice_image(invoice_id, filename="b.png", content_type="image/png", content=breaking())
    assert stored_sha256(client, invoice_id) is None
    assert open_files_in(spool_directory) == 0


def test_a_10_mb_upload_sent_twice_keeps_about_one_chunk_in_memory(
    client: AvidClient, avid: RunningAvid, spool_directory: Path
) -> None:
    image = AgentImage(10 * 1024 * 1024, spool_directory)
    invoice_id = client.create_invoice(new_invoice("RESEND-10MB")).id
    avid.controls.inject(FaultKind.RATE_LIMIT, next_calls=1, endpoint=IMAGE_ENDPOINT, retry_after=1)

    tracemalloc.start()
    try:
        client.upload_invoice_image(invoice_id, filename="big.png", content_type="image/png", content=image)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Traced across the process, the simulator's reading of the uploads included: far below the image's 10 MB.
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MiB"
    assert (image.passes, image.read) == (1, image.chunk_count)
    assert stored_sha256(client, invoice_id) == image.sha256
    assert open_files_in(spool_directory) == 0


def test_an_image_over_the_spool_limit_is_not_copied_and_a_429_fails_it_for_the_retry_queue(
    avid: RunningAvid, policy_for: Callable[..., BackoffPolicy], fake_pacer: Pacer, spool_directory: Path
) -> None:
    image = AgentImage(300 * 1024, spool_directory)
    with AvidClient(
        connection_for(avid),
        avid.company_token,
        avid.user_token,
        retry_policy=policy_for(),
        pacer=fake_pacer,
        max_spooled_image_bytes=256 * 1024,
        spool_directory=str(spool_directory),
    ) as client:
        invoice_id = client.create_invoice(new_invoice("RESEND-HUGE")).id
        avid.controls.inject(FaultKind.RATE_LIMIT, next_calls=1, endpoint=IMAGE_ENDPOINT, retry_after=3)
        with pytest.raises(RetryLater) as caught:
            client.upload_invoice_image(invoice_id, filename="h.png", content_type="image/png", content=image)
        assert caught.value.retry_after == 3.0
        assert stored_sha256(client, invoice_id) is None
    assert image.spools_open_at_the_end == 0, "the copy was dropped at the limit, not kept to the end"
    assert open_files_in(spool_directory) == 0


def test_every_attempt_a_resend_included_takes_a_turn_on_the_customers_shared_schedule(
    client: AvidClient, avid: RunningAvid, turns: CountedTurns, schedule: FakeCallSchedule, spool_directory: Path
) -> None:
    image = AgentImage(4096, spool_directory)
    avid.controls.inject(FaultKind.RATE_LIMIT, next_calls=1, endpoint=IMAGE_ENDPOINT, retry_after=1)

    invoice_id, fired = faults_fired_during(avid, lambda: upload(client, "SHARED-TURNS", image))

    assert stored_sha256(client, invoice_id) == image.sha256
    assert fired == [FaultKind.RATE_LIMIT]
    assert turns.taken == 4, "the create, the upload refused, its resend, the read"
    assert sum(schedule.claims) >= turns.taken, "every turn was claimed on the schedule"
