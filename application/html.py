"""``report.html``: one self-contained page (inline CSS, charts as base64 SVG) to read or print.

No external resource is loaded (a Content-Security-Policy says so). A tiny inline script
marks ``<html data-images-ready="yes">`` once every chart image has decoded, which the
headless-browser test reads back.
"""

from __future__ import annotations

import base64
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from application import charts
from application.definitions import (
    CHANNEL_LABELS,
    FIGURE_BY_KEY,
    FIGURES,
    NOT_RECORDED,
    OUTCOME_LABELS,
    channel_label,
)
from application.reconcile import LIST_ONLY_REASONS, RULE_LABELS
from ledger.store import CHANNEL_ORDER
from ledger.uncertainty import range_text

if TYPE_CHECKING:
    from application.data import RequestRow
    from application.report_data import ReportData

CSS = """
:root {
  --ink: #1f2933; --muted: #52606d; --faint: #7b8794; --rule: #d9dee3; --wash: #f5f7fa;
  --accent: #0b4f8a; --accent-wash: #e8f0f8; --warn: #9a5b00; --warn-wash: #fff6e5;
  --dedicated_fax: #0b4f8a; --station_fax: #e69f00; --bfs_email: #7fb8de;
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body {
  margin: 0; color: var(--ink); background: #eef1f4;
  font-family: "Source Sans 3", "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
  line-height: 1.45; -webkit-font-smoothing: antialiased;
}
.page { max-width: 1080px; margin: 32px auto; background: #fff; padding: 48px 56px 40px;
        box-shadow: 0 1px 3px rgba(16, 24, 40, .08), 0 8px 24px rgba(16, 24, 40, .06); border-radius: 6px; }
.num, td.num, th.num { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
header.masthead { border-bottom: 3px solid var(--accent); padding-bottom: 18px; margin-bottom: 28px; }
.eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: .78rem; color: var(--accent);
           font-weight: 600; }
h1 { font-size: 2rem; line-height: 1.2; margin: 6px 0 10px; font-weight: 700; letter-spacing: -.01em; }
h2 { font-size: 1.25rem; margin: 0 0 4px; font-weight: 650; }
h3 { font-size: 1rem; margin: 18px 0 6px; font-weight: 650; }
.meta { color: var(--muted); margin: 0; font-size: .92rem; }
.meta strong { color: var(--ink); font-weight: 600; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: .78rem; font-weight: 600;
         background: var(--accent-wash); color: var(--accent); vertical-align: 2px; }
.badge.pii { background: var(--warn-wash); color: var(--warn); }
section { margin: 34px 0 0; }
section > .lede { color: var(--muted); margin: 0 0 14px; max-width: 60em; }
.kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 0; }
.kpi { border: 1px solid var(--rule); border-radius: 6px; padding: 14px 16px 12px; background: #fff; }
.kpi.lead { background: var(--accent-wash); border-color: #c5d8ec; }
.kpi .label { font-size: .8rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em;
              font-weight: 600; }
.kpi .value { font-size: 2rem; font-weight: 700; line-height: 1.15; margin-top: 4px;
              font-variant-numeric: tabular-nums; }
.kpi .sub { font-size: .82rem; color: var(--muted); margin-top: 2px; }
.rate { display: grid; grid-template-columns: 1.1fr 1fr; gap: 24px; align-items: start;
        border: 1px solid var(--rule); border-left: 4px solid var(--accent); border-radius: 6px; padding: 18px 22px; }
.rate .big { font-size: 2.6rem; font-weight: 700; color: var(--accent); line-height: 1;
             font-variant-numeric: tabular-nums; }
.rate .formula { color: var(--muted); margin-top: 6px; font-variant-numeric: tabular-nums; }
.rate .second { margin-top: 14px; padding-top: 12px; border-top: 1px dashed var(--rule); }
.rate .second .big { font-size: 1.6rem; }
.definition { font-size: .9rem; color: var(--muted); margin: 0; }
.definition b { color: var(--ink); font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
thead th { font-size: .76rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
           border-bottom: 2px solid var(--ink); font-weight: 650; background: #fff; }
tfoot td { border-top: 2px solid var(--ink); border-bottom: none; font-weight: 650; }
tbody tr:nth-child(even) td { background: #fafbfc; }
table.compact { font-size: .82rem; }
table.compact td, table.compact th { padding: 4px 8px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 7px; vertical-align: 0; }
.chan-dedicated_fax { background: var(--dedicated_fax); }
.chan-station_fax { background: var(--station_fax); }
.chan-bfs_email { background: var(--bfs_email); }
figure { margin: 0; border: 1px solid var(--rule); border-radius: 6px; padding: 14px 16px 8px; }
figure img { display: block; width: 100%; height: auto; }
figcaption { font-size: .82rem; color: var(--muted); margin-top: 6px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; align-items: start; }
.note { background: var(--wash); border-radius: 6px; padding: 10px 14px; font-size: .88rem; color: var(--muted); }
.not-recorded { color: var(--warn); font-style: italic; }
.nowrap, td.mono { white-space: nowrap; }
.mono { font-family: "DejaVu Sans Mono", "Liberation Mono", Consolas, monospace; font-size: .82em; }
.defs td:first-child { width: 24%; font-weight: 600; }
.plain td:first-child { width: 22%; }
.defs td.value { width: 16%; }
.defs .cmd { display: block; margin-top: 3px; color: var(--faint); }
footer { margin-top: 40px; padding-top: 14px; border-top: 1px solid var(--rule); color: var(--faint);
         font-size: .8rem; }
@media screen and (max-width: 800px) {
  .page { padding: 24px 18px; margin: 0; border-radius: 0; }
  .kpis { grid-template-columns: repeat(2, 1fr); }
  .two, .rate { grid-template-columns: 1fr; }
}
@page { size: letter; margin: 14mm 13mm 16mm; }
@media print {
  html { font-size: 10pt; }
  body { background: #fff; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .page { box-shadow: none; margin: 0; padding: 0; max-width: none; border-radius: 0; }
  figure, .kpis, .rate, .two, .note, tr { break-inside: avoid; }
  h2, h3, .lede { break-after: avoid; }
  section { margin-top: 22px; }
  thead { display: table-header-group; }
  section.list { break-before: page; }
  tbody tr:nth-child(even) td { background: #fff; }
}
"""

SCRIPT = """
(function () {
  function check() {
    var imgs = Array.prototype.slice.call(document.images);
    var ok = imgs.length > 0 && imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
    document.documentElement.setAttribute('data-images', String(imgs.length));
    document.documentElement.setAttribute('data-images-ready', ok ? 'yes' : 'no');
  }
  if (document.readyState === 'complete') { check(); } else { window.addEventListener('load', check); }
})();
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _share(n: int, total: int) -> str:
    return _pct(n / total) if total else "–"


def _img(svg: bytes, alt: str) -> str:
    data = base64.b64encode(svg).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/svg+xml;base64,{data}">'


def _swatch(channel: str) -> str:
    return f'<span class="swatch chan-{_e(channel)}"></span>'


def _local(moment: datetime, data: ReportData) -> str:
    return moment.astimezone(data.zone).strftime("%Y-%m-%d %H:%M")


def _kpi(label: str, value: str, sub: str = "", lead: bool = False) -> str:
    cls = "kpi lead" if lead else "kpi"
    sub_html = f'<div class="sub">{sub}</div>' if sub else ""
    return f'<div class="{cls}"><div class="label">{_e(label)}</div><div class="value">{value}</div>{sub_html}</div>'


def _definition(key: str) -> str:
    return _e(FIGURE_BY_KEY[key].definition)


def render(data: ReportData) -> str:
    parts = [
        _masthead(data),
        _key_figures(data),
        _rate(data),
        _channels(data),
        _charts(data),
        _dispositions(data),
        _attention(data),
    ]
    if data.reconciliation is not None:
        parts.append(_reconciliation(data))
    parts += [_requests(data), _definitions(data), _footer(data)]
    title = f"Immigration detainer requests {data.year} – {data.department}"
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main class="page">\n'
        + "\n".join(parts)
        + f"\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def _masthead(data: ReportData) -> str:
    badge = (
        '<span class="badge pii">Contains personal data</span>'
        if data.include_pii
        else '<span class="badge">No personal data</span>'
    )
    generated = data.generated_at.astimezone(data.zone).strftime("%Y-%m-%d %H:%M %Z")
    return f"""<header class="masthead">
<div class="eyebrow">{_e(data.department)} · Annual report {data.year}</div>
<h1>Immigration detainer requests received in {data.year}</h1>
<p class="meta">Every DHS detainer request counted once, by the date its first copy arrived
(<strong>{_e(data.timezone)}</strong> time), whichever channel it came in on.
Generated {_e(generated)} from the intake ledger. {badge}</p>
</header>"""


def _key_figures(data: ReportData) -> str:
    m = data.metrics
    n = m["unique_requests"]
    copies = sum(m["copies_per_channel"].values())
    first_dedicated = m["first_channel_counts"]["dedicated_fax"]
    low, high = m["unique_requests_range"]
    rate_low, rate_high = m["dedicated_line_rate_range"]
    moving = m["open_items_moving_count"]
    count_sub = "unique requests, copies merged"
    rate_sub = f"{first_dedicated:,} of {n:,} first arrived there"
    if moving:
        count_sub = f"{_e(range_text(n, [low, high], moving))}"
        rate_sub += f" · {_pct(rate_low)}–{_pct(rate_high)} depending on open review items"
    cards = [
        _kpi("Requests received", f"{n:,}", count_sub, lead=True),
        _kpi("Dedicated-line rate", _pct(m["dedicated_line_rate"]), rate_sub),
        _kpi("Copies received", f"{copies:,}", f"{m['duplicates_merged']:,} duplicates merged"),
        _kpi(
            "Awaiting review",
            f"{m['awaiting_review']:,}",
            f"open items · {m['possible_requests_awaiting_review']:,} possible requests · "
            f"{m['quarantined']:,} documents quarantined",
        ),
    ]
    return f'<section class="kpis" aria-label="Key figures">{"".join(cards)}</section>'


def _rate(data: ReportData) -> str:
    m = data.metrics
    n = m["unique_requests"]
    first, any_ = m["first_channel_counts"]["dedicated_fax"], m["any_channel_counts"]["dedicated_fax"]
    return f"""<section>
<h2>Dedicated-line rate</h2>
<p class="lede">How many requests reached the Operations Division's dedicated detainer fax line, the channel
DHS is asked to use.</p>
<div class="rate">
  <div>
    <div class="big">{_pct(m["dedicated_line_rate"])}</div>
    <div class="formula">first arrived on the dedicated line: {first:,} ÷ {n:,} = {m["dedicated_line_rate"]:.4f}</div>
    <div class="formula">{_range_line(m)}</div>
    <div class="second">
      <div class="big">{_pct(m["dedicated_line_any_rate"])}</div>
      <div class="formula">had any copy on the dedicated line: {any_:,} ÷ {n:,} =
      {m["dedicated_line_any_rate"]:.4f}</div>
    </div>
  </div>
  <div>
    <p class="definition"><b>{_e(FIGURE_BY_KEY["dedicated_line_rate"].label)}.</b>
    {_definition("dedicated_line_rate")}</p>
    <p class="definition" style="margin-top:10px"><b>{_e(FIGURE_BY_KEY["dedicated_line_any_rate"].label)}.</b>
    {_definition("dedicated_line_any_rate")}</p>
    <p class="definition" style="margin-top:10px"><b>{_e(FIGURE_BY_KEY["unique_requests"].label)}.</b>
    {_definition("unique_requests")}</p>
  </div>
</div>
</section>"""


def _channels(data: ReportData) -> str:
    m = data.metrics
    n = m["unique_requests"]
    rows = []
    for c in CHANNEL_ORDER:
        first = m["first_channel_counts"][c]
        rows.append(
            f'<tr><td>{_swatch(c)}{_e(CHANNEL_LABELS[c])}</td><td class="num">{first:,}</td>'
            f'<td class="num">{_share(first, n)}</td><td class="num">{m["any_channel_counts"][c]:,}</td>'
            f'<td class="num">{m["copies_per_channel"][c]:,}</td></tr>'
        )
    copies = sum(m["copies_per_channel"].values())
    return f"""<section>
<h2>How requests arrived</h2>
<p class="lede">A request often arrives more than once: by the dedicated line, at a station's fax and in the BFS
mailbox. It is counted once, under the channel of its first copy.</p>
<table>
<thead><tr><th>Channel</th><th class="num">First arrival</th><th class="num">Share</th>
<th class="num">Any arrival</th><th class="num">Copies received</th></tr></thead>
<tbody>{"".join(rows)}</tbody>
<tfoot><tr><td>All channels</td><td class="num">{n:,}</td><td class="num">{"100.0%" if n else "–"}</td>
<td class="num"></td><td class="num">{copies:,}</td></tr></tfoot>
</table>
</section>"""


def _charts(data: ReportData) -> str:
    m = data.metrics
    monthly = _img(charts.monthly_chart(m["by_month"]), f"Requests per month in {data.year}, stacked by first channel")
    stations = _img(charts.station_chart(m["by_station"]), "Requests first received by each station's fax")
    return f"""<section>
<h2>Requests per month</h2>
<p class="lede">By month of first arrival, coloured by the channel the first copy came in on.</p>
<figure>{monthly}<figcaption>{_definition("by_month")}</figcaption></figure>
</section>
<section>
<h2>Requests first received at a station</h2>
<p class="lede">Requests whose first copy reached a district station's fax machine instead of the dedicated line.</p>
<figure>{stations}<figcaption>{_definition("by_station")}</figcaption></figure>
</section>"""


def _dispositions(data: ReportData) -> str:
    d = data.dispositions
    n = data.metrics["unique_requests"]
    rows = []
    for key in ("detained", "transferred", "not_acted_upon"):
        rows.append(
            f'<tr><td>{_e(FIGURE_BY_KEY[key].label)}</td><td class="num">{d[key]:,}</td>'
            f'<td class="num">{_share(d[key], n)}</td></tr>'
        )
    rows.append(
        f'<tr><td class="not-recorded">Disposition not recorded</td><td class="num">{d["not_recorded"]:,}</td>'
        f'<td class="num">{_share(d["not_recorded"], n)}</td></tr>'
    )
    note = ""
    if d["not_recorded"]:
        note = (
            f'<p class="note">{d["not_recorded"]:,} of {n:,} requests have no recorded disposition. They are shown '
            'as <em>not recorded</em>, not as zero: record them with <span class="mono">detainer-intake '
            "disposition REQUEST_ID --status … --who NAME</span>.</p>"
        )
    return f"""<section>
<h2>What happened to the requests</h2>
<p class="lede">Dispositions recorded by the department for the requests received in {data.year}.</p>
<div class="two">
<table>
<thead><tr><th>Disposition</th><th class="num">Requests</th><th class="num">Share</th></tr></thead>
<tbody>{"".join(rows)}</tbody>
<tfoot><tr><td>Requests received</td><td class="num">{n:,}</td><td class="num"></td></tr></tfoot>
</table>
<table>
<thead><tr><th>Reimbursements</th><th class="num">Value</th></tr></thead>
<tbody>
<tr><td>Requests with a reimbursement</td><td class="num">{d["reimbursements_received"]:,}</td></tr>
<tr><td>Total received</td><td class="num">${float(d["reimbursement_total"]):,.2f}</td></tr>
</tbody>
</table>
</div>
{note}
</section>"""


def _range_line(m: dict[str, Any]) -> str:
    """The count and the rate with their ranges, in words (one line of the rate section)."""
    low, high = m["unique_requests_range"]
    rate_low, rate_high = m["dedicated_line_rate_range"]
    text = range_text(m["unique_requests"], [low, high], m["open_items_moving_count"])
    return _e(f"{text}; dedicated-line rate {rate_low:.4f}–{rate_high:.4f}")


def _attention(data: ReportData) -> str:
    m = data.metrics
    keys = ("duplicates_merged", "cancellations", "decoys", "quarantined", "awaiting_review",
            "possible_requests_awaiting_review", "unreadable_inputs", "open_items_moving_count")
    rows = "".join(
        f'<tr><td>{_e(FIGURE_BY_KEY[k].label)}</td><td class="num">{m[k]:,}</td><td>{_definition(k)}</td></tr>'
        for k in keys
    )
    for k in ("unique_requests_range", "dedicated_line_rate_range"):
        low, high = m[k]
        shown = f"{low:,}–{high:,}" if isinstance(low, int) else f"{low:.4f}–{high:.4f}"
        rows += f'<tr><td>{_e(FIGURE_BY_KEY[k].label)}</td><td class="num">{shown}</td><td>{_definition(k)}</td></tr>'

    return f"""<section>
<h2>Other documents and open work</h2>
<p class="lede">Everything received is kept. These arrivals did not add a request, or still need a person.</p>
<table class="plain">
<thead><tr><th>Figure</th><th class="num">Count</th><th>Meaning</th></tr></thead>
<tbody>{rows}</tbody>
</table>
</section>"""


def _reconciliation(data: ReportData) -> str:
    r = data.reconciliation
    assert r is not None
    c = r.counts()
    entries = {e.row: e for e in r.entries}

    def pii_cells(row: int) -> str:
        if not data.include_pii:
            return ""
        e = entries[row]
        return (
            f'<td class="mono">{_e(e.raw_a_number)}</td><td class="mono">{_e(e.raw_event_number)}</td>'
            f"<td>{_e(e.raw_date)}</td>"
        )

    pii_heads = "<th>A-number</th><th>Event number</th><th>Date</th>" if data.include_pii else ""
    missing = (
        "".join(
            f'<tr><td class="num">{o.row}</td>{pii_cells(o.row)}'
            f"<td>{_e(LIST_ONLY_REASONS.get(o.reason, o.reason))}</td>"
            f'<td class="mono">{_e(", ".join(o.candidates))}</td></tr>'
            for o in r.list_only
        )
        or '<tr><td colspan="9">None: every entry of the list was matched.</td></tr>'
    )
    extra = (
        "".join(
            f'<tr><td class="mono">{_e(q.id)}</td><td class="nowrap">{_e(_local(q.first.received_at, data))}</td>'
            f"<td>{_swatch(q.first.channel)}{_e(channel_label(q.first.channel, q.first.station, short=True))}</td></tr>"
            for q in r.ledger_only
        )
        or '<tr><td colspan="3">None: every request of the year is on the list.</td></tr>'
    )
    matched = (
        "".join(
            f'<tr><td class="num">{mt.row}</td><td class="mono">{_e(mt.request_id)}</td>'
            f"<td>{_e(RULE_LABELS.get(mt.rule, mt.rule))}</td>"
            f'<td class="num">{"" if mt.days_apart is None else mt.days_apart}</td>'
            f"<td>{'' if mt.duplicate_of_row is None else f'same request as row {mt.duplicate_of_row}'}"
            f"{'' if mt.in_year else ' first received in another year'}</td></tr>"
            for mt in r.matched
        )
        or '<tr><td colspan="5">No entry of the list was matched.</td></tr>'
    )
    unusable = (
        f'<p class="note">Rows without any A-number or event number (not matched): '
        f"{_e(', '.join(str(x) for x in r.unusable))}.</p>"
        if r.unusable
        else ""
    )
    not_found_sub = "never received or never recognised"
    if c["unusable_rows"]:
        not_found_sub += f" · {c['unusable_rows']:,} more without an identifier"
    return f"""<section>
<h2>Reconciliation with {_e(r.list_name)}</h2>
<p class="lede">Each entry of the external list was matched to a ledger request by event number, else by
A-number with a date within {r.window_days} days of the request's issue or arrival dates. List entries are named
by their spreadsheet row (the header is row 1).</p>
<section class="kpis" aria-label="Reconciliation counts" style="margin-bottom:18px">
{_kpi("Entries on the list", f"{c['list_rows']:,}")}
{_kpi("Matched", f"{c['matched_rows']:,}", f"{c['matched_requests']:,} ledger requests", lead=True)}
{_kpi("On the list only", f"{c['list_only']:,}", not_found_sub)}
{_kpi("In the ledger only", f"{c['ledger_only']:,}", f"of {c['ledger_requests']:,} requests received in {r.year}")}
</section>
<p class="note">For context, in {r.year}: {r.context.get("quarantined", 0):,} received documents could not be read
(quarantined), {r.context.get("awaiting_review", 0):,} items await review and {r.context.get("decoys", 0):,} documents
held no detainer form.</p>
<h3>On the list, not found in the ledger</h3>
<table class="compact"><thead><tr><th class="num">Row</th>{pii_heads}<th>Finding</th>
<th>Requests with that A-number</th></tr></thead><tbody>{missing}</tbody></table>
{unusable}
<h3>In the ledger, not on the list</h3>
<table class="compact"><thead><tr><th>Request</th><th>First received</th><th>First channel</th></tr></thead>
<tbody>{extra}</tbody></table>
<h3>Matched</h3>
<table class="compact"><thead><tr><th class="num">Row</th><th>Request</th><th>Matched by</th>
<th class="num">Days apart</th><th>Note</th></tr></thead><tbody>{matched}</tbody></table>
</section>"""


def _other_arrivals(row: RequestRow) -> list[str]:
    """Where else the request arrived besides its first arrival: ``Dedicated line``, ``Station C-6, D-14``."""
    out = []
    for channel in row.channels:
        if channel == "station_fax":
            stations = sorted({a.station or "?" for a in row.arrivals if a.channel == channel} - {row.first.station})
            if stations:
                out.append("Station " + ", ".join(stations))
        elif channel != row.first.channel:
            out.append(channel_label(channel, short=True))
    return out


def _requests(data: ReportData) -> str:
    pii = data.include_pii
    heads = (
        '<th class="num">#</th><th>Request</th><th>First received</th><th>First channel</th><th>Also arrived on</th>'
        '<th class="num">Copies</th><th>Form</th><th>Warrant</th><th>Disposition</th>'
    )
    if pii:
        heads += "<th>Name</th><th>Date of birth</th><th>A-number</th><th>Event number</th>"
    body = []
    for number, row in enumerate(data.rows, 1):
        others = _other_arrivals(row)
        disposition = (
            f"{_e(row.disposition.label)}"
            + (f" (${row.disposition.reimbursement:,.2f})" if row.disposition.reimbursement is not None else "")
            if row.disposition
            else f'<span class="not-recorded">{NOT_RECORDED}</span>'
        )
        if row.cancelled:
            disposition += " · cancelled by DHS"
        cells = (
            f'<td class="num">{number}</td><td class="mono">{_e(row.id)}</td>'
            f'<td class="nowrap">{_e(_local(row.first.received_at, data))}</td>'
            f'<td class="nowrap">{_swatch(row.first.channel)}'
            f"{_e(channel_label(row.first.channel, row.first.station, short=True))}</td>"
            f'<td>{_e(", ".join(others)) or "–"}</td><td class="num">{row.copies}</td>'
            f'<td class="nowrap">{_e(row.form_type)}</td><td class="nowrap">{_e(row.warrant_form) or "–"}</td>'
            f"<td>{disposition}</td>"
        )
        if pii:
            p = row.person
            cells += (
                f"<td>{_e(p.get('subject_name'))}</td><td>{_e(p.get('date_of_birth'))}</td>"
                f'<td class="mono">{_e(p.get("file_number"))}</td><td class="mono">{_e(p.get("event_number"))}</td>'
            )
        body.append(f"<tr>{cells}</tr>")
    rows = "".join(body) or '<tr><td colspan="13">No request was received in this year.</td></tr>'
    privacy = (
        "This list includes personal data (names, dates of birth, A-numbers, event numbers): handle it accordingly."
        if pii
        else "Requests are named by their ledger id; personal data is left out of this report by design."
    )
    return f"""<section class="list">
<h2>Requests received in {data.year}</h2>
<p class="lede">One line per unique request, in order of first arrival ({_e(data.timezone)} time). {privacy}
The same list is in <span class="mono">requests.csv</span>.</p>
<table class="compact">
<thead><tr>{heads}</tr></thead>
<tbody>{rows}</tbody>
</table>
</section>"""


def _definitions(data: ReportData) -> str:
    rows = []
    for f in FIGURES:
        value = data.value(f.key)
        if f.key == "range_components":
            shown = ", ".join(f"{k} {lo:+d}/{hi:+d}" for k, (lo, hi) in value.items() if lo or hi) or "none"
        elif isinstance(value, list) and len(value) == 2:
            shown = "–".join(f"{v:.4f}" if isinstance(v, float) else f"{v:,}" for v in value)
        elif isinstance(value, dict):
            shown = "see above"
        elif isinstance(value, float):
            shown = f"{value:.4f}"
        elif isinstance(value, int):
            shown = f"{value:,}"
        else:
            shown = str(value)
        cmd = f.reproduce(data.year)
        rows.append(
            f'<tr><td>{_e(f.label)}</td><td class="num value">{_e(shown)}</td><td>{_e(f.definition)}'
            f'<span class="cmd mono">{_e(cmd["command"])} → {_e(cmd["key"])}</span></td></tr>'
        )
    outcomes = ", ".join(OUTCOME_LABELS.values())
    return f"""<section>
<h2>Definitions and how to reproduce each figure</h2>
<p class="lede">Every figure is computed from the intake ledger and can be re-run at any time: the command and
the JSON key under each definition print the same number. Dispositions are one of: {_e(outcomes)}, or
not recorded.</p>
<table class="defs">
<thead><tr><th>Figure</th><th class="num">Value</th><th>Definition and command</th></tr></thead>
<tbody>{"".join(rows)}</tbody>
</table>
</section>"""


def _footer(data: ReportData) -> str:
    return f"""<footer>{_e(data.department)} · detainer-intake annual report {data.year} ·
figures by first arrival in {_e(data.timezone)} time · files: report.html, summary.json, requests.csv</footer>"""
