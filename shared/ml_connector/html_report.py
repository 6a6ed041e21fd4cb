"""Self-contained HTML pages (inline CSS, inline SVG charts, a few lines of inline JS; nothing fetched): a customer's
status page and a reconciliation report. Every value from the systems is escaped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from ml_connector.failure_guide import FailureGroup
from ml_connector.kinds import Stage
from ml_connector.reconcile_report import ReconciliationReport, ReconciliationSummary
from ml_connector.state.models import RunCounts
from ml_connector.status_page import Latency, RunPoint, StatusPage

# The parts of a run's counts drawn as stacked bars, with their colours.
COUNT_SERIES = (
    ("synced", "#2e7d32"),
    ("unchanged", "#90a4ae"),
    ("skipped", "#f9a825"),
    ("waiting", "#6d4c41"),
    ("failed", "#c62828"),
)
BAR_COLOUR = "#1565c0"

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f6f8;color:#1c2630}
header{background:#12324a;color:#fff;padding:16px 24px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.8}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:16px;padding:16px 24px}
section{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:12px 16px}
section.wide{grid-column:1/-1}
h2{font-size:16px;margin:0 0 8px}
.empty{color:#6b7785;font-style:italic;border:1px dashed #b0bac5;border-radius:4px;padding:16px;text-align:center}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #e3e8ed;vertical-align:top}
th{cursor:pointer;user-select:none;background:#f0f3f6}
td.num,th.num{text-align:right}
.legend span{display:inline-block;margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:#1c2630}
"""

# Click a header to sort its table; numbers (class num) sort as numbers.
_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (header, column) {
  header.addEventListener("click", function () {
    var body = header.closest("table").tBodies[0];
    var numeric = header.classList.contains("num");
    var rows = Array.prototype.slice.call(body.rows);
    var descending = header.dataset.order !== "desc";
    rows.sort(function (a, b) {
      var x = a.cells[column].textContent, y = b.cells[column].textContent;
      var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      return descending ? -order : order;
    });
    header.dataset.order = descending ? "desc" : "asc";
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    caption: str


def render_status_page(page: StatusPage) -> str:
    name = f"{page.display_name} ({page.customer_id})" if page.display_name else page.customer_id
    sections = [_stage_section(stage, points) for stage, points in page.runs.items()]
    sections += [
        _failures_section(page.failures),
        _reconciliation_section(page.reconciliation),
        _latency_section(page.latency),
    ]
    return _document(f"ml-connector status: {name}", f"generated {_when(page.generated_at)}", sections)


def render_reconciliation_page(report: ReconciliationReport) -> str:
    summary = report.summary()
    sections = [_reconciliation_section(summary), _totals_section(report), _drift_lines_section(report)]
    return _document(
        f"ml-connector reconciliation: {report.customer_id}",
        f"from {_when(report.started_at)} to {_when(report.finished_at)}; invoices dated from "
        f"{report.invoice_start_date}",
        sections,
    )


# -- sections ------------------------------------------------------------------------------------------------------


def _stage_section(stage: Stage, points: Sequence[RunPoint]) -> str:
    title = f"{stage.value}: records per run"
    if not points:
        return _section(title, _empty("no runs recorded yet for this stage"), chart=f"runs-{stage.value}")
    legend = "".join(f'<span><i style="background:{c}"></i>{escape(n)}</span>' for n, c in COUNT_SERIES)
    rows = [
        [_when(p.at), p.state.value, *(str(getattr(p.counts, n)) for n, _ in COUNT_SERIES), p.message or ""]
        for p in reversed(points)
    ]
    headers = ["finished", "state", *(n for n, _ in COUNT_SERIES), "message"]
    body = (
        _stacked_runs_svg(points)
        + f'<div class="legend">{legend}</div>'
        + _table(headers, rows, numeric={n for n, _ in COUNT_SERIES})
    )
    return _section(title, body, chart=f"runs-{stage.value}")


def _failures_section(failures: Sequence[FailureGroup]) -> str:
    title = "open failures by reason"
    if not failures:
        return _section(title, _empty("no open failures"), chart="failures", wide=True)
    bars = [Bar(f"{f.stage.value} {f.kind}: {f.reason}", f.count, str(f.count)) for f in failures]
    rows = [[str(f.count), f.stage.value, f.kind, f.reason, f.fix, f.example] for f in failures]
    table = _table(["count", "stage", "kind", "reason", "what to do", "example"], rows, numeric={"count"})
    return _section(title, _bars_svg(bars) + table, chart="failures", wide=True)


def _reconciliation_section(summary: ReconciliationSummary | None) -> str:
    title = "reconciliation"
    if summary is None:
        return _section(
            title,
            _empty(
                "no reconciliation summary available: run `mlc reconcile ID --json > FILE` and pass "
                "--reconciliation FILE"
            ),
            chart="reconciliation",
        )
    verdict = (
        '<p class="ok">Sage 100, AvidXchange and the connector agree.</p>'
        if summary.in_agreement
        else f'<p class="bad">{summary.drift_count} disagreement(s), {_money(summary.drift_amount)} at stake.</p>'
    )
    head = f"{verdict}<p>finished {_when(summary.finished_at)}</p>"
    if summary.in_agreement:
        return _section(title, head, chart="reconciliation")
    bars = [Bar(kind.label, count, str(count)) for kind, count in summary.by_kind.items()]
    return _section(title, head + _bars_svg(bars), chart="reconciliation")


def _totals_section(report: ReconciliationReport) -> str:
    sage, avid, connector = report.sage, report.avid, report.connector
    rows = [
        ["vendors", str(sage.vendors), str(avid.vendors), f"{connector.vendor_mappings} mapped"],
        ["GL codes", str(sage.codes), str(avid.codes), ""],
        ["invoices", str(sage.open_invoices), str(avid.invoices), f"{connector.invoice_mappings} mapped"],
        ["invoice amount", _money(sage.invoice_amount), _money(avid.invoice_amount), ""],
        ["open balance", _money(sage.open_balance), "", ""],
        [
            "settled payments",
            "",
            f"{avid.settled_payments} ({_money(avid.settled_amount)})",
            f"{connector.payment_mappings} posted, {connector.checks_verified} checks read back",
        ],
    ]
    drift = [[t.kind.label, str(t.count), _money(t.amount)] for t in report.totals]
    body = _table(["", "Sage 100", "AvidXchange", "connector"], rows) + "<h2>by kind</h2>"
    body += _table(["drift", "count", "amount"], drift, numeric={"count", "amount"})
    return _section("totals", body)


def _drift_lines_section(report: ReconciliationReport) -> str:
    title = "what to do"
    if not report.lines:
        return _section(title, _empty("nothing: the ledgers agree"), wide=True)
    rows = [
        [line.subject, line.kind.value, line.detail, "" if line.amount is None else _money(line.amount), line.action]
        for line in report.lines
    ]
    omitted = sum(t.lines_omitted for t in report.totals)
    note = f"<p>{omitted} more line(s) are counted above but not listed.</p>" if omitted else ""
    return _section(
        title, _table(["record", "drift", "found", "amount", "do"], rows, numeric={"amount"}) + note, wide=True
    )


def _latency_section(latency: Sequence[Latency]) -> str:
    title = "latency of the two systems"
    measured = [figure for figure in latency if figure.seconds is not None]
    missing = [figure for figure in latency if figure.seconds is None]
    body = ""
    if measured:
        body += _bars_svg(
            [Bar(f.system, (f.seconds or 0) * 1000, f"{(f.seconds or 0) * 1000:.0f} ms") for f in measured]
        )
    body += "".join(_empty(f"{escape(f.system)}: no figure ({f.note})", escaped=True) for f in missing)
    notes = [[f.system, "-" if f.seconds is None else f"{f.seconds * 1000:.0f} ms", f.note] for f in latency]
    return _section(title, body + _table(["system", "round trip", "how"], notes), chart="latency")


# -- charts --------------------------------------------------------------------------------------------------------


def _stacked_runs_svg(points: Sequence[RunPoint]) -> str:
    width, height, left, bottom, top = 440, 180, 40, 30, 10
    plot_height = height - bottom - top
    peak = max((_moved(p.counts) for p in points), default=0) or 1
    slot = (width - left) / len(points)
    bar = max(4.0, min(40.0, slot * 0.7))
    shapes = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#90a4ae"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{peak}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">0</text>',
    ]
    for index, point in enumerate(points):
        x = left + index * slot + (slot - bar) / 2
        y = float(height - bottom)
        for name, colour in COUNT_SERIES:
            value = getattr(point.counts, name)
            if not value:
                continue
            size = value / peak * plot_height
            y -= size
            shapes.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{size:.1f}" fill="{colour}">'
                f"<title>{escape(_when(point.at))} {name}: {value}</title></rect>"
            )
        if index in (0, len(points) - 1):
            label = escape(point.at.astimezone(dt.UTC).strftime("%m-%d %H:%M"))
            shapes.append(f'<text x="{x + bar / 2:.1f}" y="{height - 12}" text-anchor="middle">{label}</text>')
    return _svg(width, height, shapes, "records moved per run")


def _bars_svg(bars: Sequence[Bar]) -> str:
    row, label_width, width = 22, 230, 440
    height = row * len(bars) + 8
    peak = max((bar.value for bar in bars), default=0) or 1
    shapes = []
    for index, bar in enumerate(bars):
        y = 4 + index * row
        size = max(2.0, bar.value / peak * (width - label_width - 50))
        label = bar.label if len(bar.label) <= 40 else bar.label[:39] + "…"
        shapes += [
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end"><title>{escape(bar.label)}</title>'
            f"{escape(label)}</text>",
            f'<rect x="{label_width}" y="{y + 3}" width="{size:.1f}" height="{row - 8}" fill="{BAR_COLOUR}"/>',
            f'<text x="{label_width + size + 4:.1f}" y="{y + 14}">{escape(bar.caption)}</text>',
        ]
    return _svg(width, height, shapes, "bar chart")


def _svg(width: int, height: int, shapes: Sequence[str], label: str) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>'
    )


# -- building blocks -----------------------------------------------------------------------------------------------


def _document(title: str, subtitle: str, sections: Sequence[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # Nothing may be fetched: the page works offline and from a mail attachment.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
        f"<main>{''.join(sections)}</main><script>{_SCRIPT}</script></body></html>\n"
    )


def _section(title: str, body: str, *, chart: str | None = None, wide: bool = False) -> str:
    attributes = (' class="wide"' if wide else "") + (f' data-panel="{escape(chart)}"' if chart else "")
    return f"<section{attributes}><h2>{escape(title)}</h2>{body}</section>"


def _empty(message: str, *, escaped: bool = False) -> str:
    return f'<div class="empty">{message if escaped else escape(message)}</div>'


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[str] | frozenset[str] = frozenset()
) -> str:
    def cell(tag: str, header: str, value: str) -> str:
        kind = ' class="num"' if header in numeric else ""
        return f"<{tag}{kind}>{escape(value)}</{tag}>"

    head = "".join(cell("th", h, h) for h in headers)
    body = "".join("<tr>" + "".join(cell("td", h, v) for h, v in zip(headers, r, strict=True)) + "</tr>" for r in rows)
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _moved(counts: RunCounts) -> int:
    return sum(getattr(counts, name) for name, _ in COUNT_SERIES)


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
