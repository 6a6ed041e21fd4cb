"""The AvidConnect /v1 endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from avid_sim import enterprise_codes, invoices, payments, vendors
from avid_sim.errors import AvidApiError
from avid_sim.images import attach_image, image_too_large
from avid_sim.paging import PageRequest, page_of
from avid_sim.query import instant, required_instant
from avid_sim.settings import SimSettings
from avid_sim.state import AvidState
from avid_sim.validation import json_body

MULTIPART_OVERHEAD_BYTES = 64 * 1024


def v1_router(state: AvidState, settings: SimSettings) -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/company")
    async def company() -> dict[str, Any]:
        return state.company.wire()

    @router.post("/vendors/batch")
    async def upsert_vendors(request: Request) -> dict[str, Any]:
        return vendors.upsert_vendors(state, await json_body(request))

    @router.get("/vendors")
    async def list_vendors(
        external_vendor_code: str | None = Query(None, alias="externalVendorCode"),
        last_modified_from: str | None = Query(None, alias="lastModifiedFrom"),
        page_number: str | None = Query(None, alias="pageNumber"),
        page_size: str | None = Query(None, alias="pageSize"),
    ) -> dict[str, Any]:
        page = PageRequest.parse(page_number, page_size)
        with state.lock:
            found = vendors.find_vendors(
                state,
                external_vendor_code=external_vendor_code,
                last_modified_from=instant("lastModifiedFrom", last_modified_from),
            )
            return page_of(found, page)

    @router.post("/enterpriseCodes/batch")
    async def upsert_enterprise_codes(request: Request) -> dict[str, Any]:
        return enterprise_codes.upsert_enterprise_codes(state, await json_body(request))

    @router.get("/enterpriseCodes")
    async def list_enterprise_codes(
        group_name: str | None = Query(None, alias="groupName"),
        page_number: str | None = Query(None, alias="pageNumber"),
        page_size: str | None = Query(None, alias="pageSize"),
    ) -> dict[str, Any]:
        page = PageRequest.parse(page_number, page_size)
        with state.lock:
            return page_of(enterprise_codes.find_enterprise_codes(state, group_name=group_name), page)

    @router.post("/invoices", status_code=201)
    async def create_invoice(request: Request) -> dict[str, Any]:
        body = await json_body(request)
        with state.lock:
            return invoices.create_invoice(state, body).wire()

    @router.get("/invoices")
    async def list_invoices(
        vendor_external_code: str | None = Query(None, alias="vendorExternalCode"),
        number: str | None = Query(None),
        last_changed_from: str | None = Query(None, alias="lastChangedFrom"),
        page_number: str | None = Query(None, alias="pageNumber"),
        page_size: str | None = Query(None, alias="pageSize"),
    ) -> dict[str, Any]:
        page = PageRequest.parse(page_number, page_size)
        with state.lock:
            found = invoices.find_invoices(
                state,
                vendor_external_code=vendor_external_code,
                number=number,
                last_changed_from=instant("lastChangedFrom", last_changed_from),
            )
            return page_of(found, page)

    @router.get("/invoices/{invoice_id}")
    async def get_invoice(invoice_id: str) -> dict[str, Any]:
        with state.lock:
            return invoices.get_invoice(state, invoice_id).wire()

    @router.post("/invoices/{invoice_id}/image", status_code=201)
    async def upload_image(invoice_id: str, request: Request) -> JSONResponse:
        invoices.get_invoice(state, invoice_id)
        declared = request.headers.get("content-length")
        limit = settings.max_image_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD_BYTES:
            raise image_too_large(invoice_id, limit)
        upload = await _file_part(request, invoice_id)
        try:
            invoice = await attach_image(state, invoice_id, upload, max_bytes=settings.max_image_bytes)
        finally:
            await upload.close()
        with state.lock:
            return JSONResponse(invoice.wire(), status_code=201)

    @router.get("/payments")
    async def list_payments(
        last_modified_from: str | None = Query(None, alias="lastModifiedFrom"),
        last_modified_to: str | None = Query(None, alias="lastModifiedTo"),
        page_number: str | None = Query(None, alias="pageNumber"),
        page_size: str | None = Query(None, alias="pageSize"),
    ) -> dict[str, Any]:
        page = PageRequest.parse(page_number, page_size)
        with state.lock:
            found = payments.payments_modified_between(
                state,
                required_instant("lastModifiedFrom", last_modified_from),
                required_instant("lastModifiedTo", last_modified_to),
            )
            answer = page_of(found, page)
            payments.after_payments_page_read(state, page.number)
            return answer

    @router.get("/payments/{payment_id}")
    async def get_payment(payment_id: str) -> dict[str, Any]:
        with state.lock:
            return payments.get_payment(state, payment_id).wire()

    return router


async def _file_part(request: Request, invoice_id: str) -> UploadFile:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise AvidApiError(400, f"invoice {invoice_id}: send the image as multipart/form-data with a 'file' part")
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise AvidApiError(400, f"invoice {invoice_id}: the multipart body has no 'file' part with a file in it")
    return upload
