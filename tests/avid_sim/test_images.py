from __future__ import annotations

import hashlib

import httpx
import pytest

from avid_sim.testing import RunningAvid

from .conftest import SMALL_IMAGE_LIMIT, create_invoice, error_detail, seed_reference_data

SAMPLES = {
    "application/pdf": b"%PDF-1.7\n...",
    "image/tiff": b"II*\x00tiff-bytes",
    "image/png": b"\x89PNG\r\n\x1a\npng-bytes",
    "image/jpeg": b"\xff\xd8\xff\xe0jpeg-bytes",
}


@pytest.fixture
def invoice_id(client: httpx.Client) -> str:
    seed_reference_data(client)
    return str(create_invoice(client)["Id"])


def upload(client: httpx.Client, invoice_id: str, content: bytes, content_type: str) -> httpx.Response:
    return client.post(f"/v1/invoices/{invoice_id}/image", files={"file": ("scan", content, content_type)})


@pytest.mark.parametrize("content_type", sorted(SAMPLES))
def test_each_accepted_type_is_stored_with_its_hash(client: httpx.Client, invoice_id: str, content_type: str) -> None:
    content = SAMPLES[content_type]
    response = upload(client, invoice_id, content, content_type)
    assert response.status_code == 201, response.text
    stored = client.get(f"/v1/invoices/{invoice_id}").json()
    assert stored["HasImage"] is True
    assert stored["ImageSha256"] == hashlib.sha256(content).hexdigest()
    assert (stored["ImageContentType"], stored["ImageSize"]) == (content_type, len(content))


def test_big_tiff_magic_is_accepted(client: httpx.Client, invoice_id: str) -> None:
    assert upload(client, invoice_id, b"MM\x00*big-endian", "image/tiff").status_code == 201


def test_a_second_upload_replaces_the_first(client: httpx.Client, invoice_id: str, avid: RunningAvid) -> None:
    upload(client, invoice_id, SAMPLES["application/pdf"], "application/pdf")
    upload(client, invoice_id, SAMPLES["image/png"], "image/png")
    stored = avid.state.invoices[invoice_id]
    assert stored.image_sha256 == hashlib.sha256(SAMPLES["image/png"]).hexdigest()
    assert stored.image_content_type == "image/png"


def test_unaccepted_type_is_415(client: httpx.Client, invoice_id: str, avid: RunningAvid) -> None:
    response = upload(client, invoice_id, b"GIF89a...", "image/gif")
    assert response.status_code == 415
    assert "image/gif" in error_detail(response)
    assert avid.state.invoices[invoice_id].has_image is False


def test_content_that_does_not_match_its_type_is_422(client: httpx.Client, invoice_id: str) -> None:
    response = upload(client, invoice_id, SAMPLES["image/png"], "application/pdf")
    assert response.status_code == 422
    assert "not application/pdf" in error_detail(response)
    assert upload(client, invoice_id, b"", "application/pdf").status_code == 422


def test_images_above_the_limit_are_413(client: httpx.Client, invoice_id: str, avid: RunningAvid) -> None:
    at_limit = b"%PDF-" + b"0" * (SMALL_IMAGE_LIMIT - 5)
    assert upload(client, invoice_id, at_limit, "application/pdf").status_code == 201
    over = upload(client, invoice_id, at_limit + b"1", "application/pdf")
    assert over.status_code == 413
    far_over = upload(client, invoice_id, at_limit * 3, "application/pdf")
    assert far_over.status_code == 413
    assert f"larger than {SMALL_IMAGE_LIMIT} bytes" in error_detail(far_over)
    assert avid.state.invoices[invoice_id].image_size == SMALL_IMAGE_LIMIT


def test_a_streamed_upload_without_length_is_checked_while_read(client: httpx.Client, invoice_id: str) -> None:
    boundary = "sim-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()

    def body() -> object:
        yield head + b"%PDF-"
        for _ in range(SMALL_IMAGE_LIMIT // 1024 + 1):
            yield b"0" * 1024
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        f"/v1/invoices/{invoice_id}/image",
        content=body(),  # type: ignore[arg-type]
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413


def test_no_file_part_is_400_and_unknown_invoice_is_404(client: httpx.Client, invoice_id: str) -> None:
    no_file = client.post(f"/v1/invoices/{invoice_id}/image", data={"other": "x"}, files={"x": ("a", b"b")})
    assert no_file.status_code == 400
    assert "'file' part" in error_detail(no_file)
    assert client.post(f"/v1/invoices/{invoice_id}/image", json={}).status_code == 400
    assert upload(client, "I-404", SAMPLES["image/png"], "image/png").status_code == 404
