"""The status page and the reconciliation page in a real headless Chromium: they load with no console errors, and
the screenshot shows every chart drawn (its own colours inside its box)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from ml_connector.failure_guide import FailureGroup
from ml_connector.html_report import BAR_COLOUR, COUNT_SERIES, render_reconciliation_page, render_status_page
from ml_connector.kinds import Stage
from ml_connector.reconcile_report import (
    AvidTotals,
    ConnectorTotals,
    DriftCollector,
    DriftKind,
    ReconciliationReport,
    SageTotals,
)
from ml_connector.state.models import RunCounts, RunState
from ml_connector.status_page import Latency, RunPoint, StatusPage
from tests.report.chromium import visit
from tests.report.png import Image, decode

NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
# Every chart's box and any empty panel's text, per panel.
PANELS = """Array.from(document.querySelectorAll("section[data-panel]")).map(function (section) {
  var chart = section.querySelector("svg.chart"), empty = section.querySelector(".empty");
  var box = chart ? chart.getBoundingClientRect() : null;
  return [section.dataset.panel, box ? [box.x, box.y, box.width, box.height] : null,
          empty ? empty.textContent : null];
})"""


def hex_colour(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


CHART_COLOURS = [hex_colour(BAR_COLOUR), *(hex_colour(c) for _, c in COUNT_SERIES)]


def chart_pixels(image: Image, box: list[float]) -> int:
    """Pixels inside ``box`` drawn in one of the charts' colours."""
    x0, y0, width, height = (int(v) for v in box)
    count = 0
    for y in range(max(0, y0), min(image.height, y0 + height)):
        for x in range(max(0, x0), min(image.width, x0 + width)):
            pixel = image.pixel(x, y)
            if any(sum(abs(a - b) for a, b in zip(pixel, colour, strict=True)) < 30 for colour in CHART_COLOURS):
                count += 1
    return count


def status_page() -> StatusPage:
    def run(hours: int, synced: int, failed: int) -> RunPoint:
        return RunPoint(
            stage=Stage.INVOICES,
            state=RunState.PARTIAL if failed else RunState.SUCCEEDED,
            at=NOON - dt.timedelta(hours=hours),
            counts=RunCounts(read=synced + failed + 3, synced=synced, unchanged=3, failed=failed),
        )

    return StatusPage(
        customer_id="redrock",
        display_name="Redrock <Construction> & Co.",
        generated_at=NOON,
        runs={
            Stage.VENDORS: [
                RunPoint(stage=Stage.VENDORS, state=RunState.SUCCEEDED, at=NOON, counts=RunCounts(read=9, synced=9))
            ],
            Stage.GL: [],
            Stage.INVOICES: [run(3, 40, 2), run(2, 12, 0), run(1, 25, 5)],
            Stage.PAYMENTS: [],
        },
        failures=[
            FailureGroup(
                stage=Stage.INVOICES,
                kind="invoice",
                reason="GL account #-#-# is not active in AvidXchange",
                count=4,
                example="invoice 01-ACME/10045: GL account 6100-02-300 is not active in AvidXchange",
            ),
            FailureGroup(stage=Stage.PAYMENTS, kind="payment", reason="locked", count=1, example="locked"),
        ],
        reconciliation=ReconciliationReport(
            customer_id="redrock",
            started_at=NOON,
            finished_at=NOON,
            invoice_start_date=dt.date(2026, 1, 1),
            sage=SageTotals(),
            avid=AvidTotals(),
            connector=ConnectorTotals(),
            totals=[],
            lines=[],
        )
        .summary()
        .model_copy(
            update={
                "in_agreement": False,
                "drift_count": 3,
                "by_kind": {DriftKind.PAYMENT_NOT_POSTED: 2, DriftKind.VENDOR_DIFFERS: 1},
            }
        ),
        latency=[
            Latency(system="Sage 100 agent", seconds=0.120, note="GET /v1/health"),
            Latency(system="AvidConnect", seconds=None, note="not available: GET /v1/company failed: 503"),
        ],
    )


def reconciliation_report() -> ReconciliationReport:
    drift = DriftCollector("redrock", max_lines_per_kind=5)
    drift.add(
        DriftKind.PAYMENT_NOT_POSTED,
        "invoice 01-ACME/1",
        "paid",
        "run `mlc run {customer} payments`",
        Decimal("120.00"),
    )
    drift.add(DriftKind.INVOICE_MISSING_IN_AVID, "invoice 01-ACME/2", "<missing>", "run it", Decimal("99.10"))
    return ReconciliationReport(
        customer_id="redrock",
        started_at=NOON,
        finished_at=NOON,
        invoice_start_date=dt.date(2026, 1, 1),
        sage=SageTotals(open_invoices=2, invoice_amount=Decimal("219.10")),
        avid=AvidTotals(invoices=1),
        connector=ConnectorTotals(),
        totals=drift.totals(),
        lines=drift.lines(),
    )


def test_the_status_page_loads_without_errors_and_draws_its_charts(tmp_path: Path) -> None:
    page = tmp_path / "status.html"
    page.write_text(render_status_page(status_page()), encoding="utf-8")

    visited = visit(page, PANELS)

    assert visited.errors == []
    image = decode(visited.screenshot_png)
    panels = {name: (box, empty) for name, box, empty in visited.evaluated}
    for drawn in ("runs-vendors", "runs-invoices", "failures", "reconciliation", "latency"):
        box, _ = panels[drawn]
        assert box is not None and box[2] > 100 and box[3] > 20, drawn
        assert chart_pixels(image, box) > 150, f"{drawn}: chart not drawn"
    assert panels["runs-gl"] == (None, "no runs recorded yet for this stage")
    assert "AvidConnect: no figure (not available: GET /v1/company failed: 503)" in panels["latency"][1]


def test_the_reconciliation_page_loads_without_errors_and_draws_its_chart(tmp_path: Path) -> None:
    page = tmp_path / "reconcile.html"
    page.write_text(render_reconciliation_page(reconciliation_report()), encoding="utf-8")

    visited = visit(page, PANELS)

    assert visited.errors == []
    panels = {name: (box, empty) for name, box, empty in visited.evaluated}
    box, _ = panels["reconciliation"]
    assert chart_pixels(decode(visited.screenshot_png), box) > 150


def test_a_page_with_a_script_error_is_caught(tmp_path: Path) -> None:
    """The check can fail: a page whose script throws is reported."""
    page = tmp_path / "broken.html"
    page.write_text(render_status_page(status_page()).replace("</body>", "<script>undefinedCall();</script></body>"))

    assert visit(page, "1").errors != []
