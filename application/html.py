"""``report.html``: one self-contained page (inline CSS, charts as base64 SVG) to read or print.

Rendered from the Jinja2 templates in ``application/templates`` (``report.html.j2`` and one template
per section), with autoescaping. No external resource is loaded (a Content-Security-Policy says
so). A tiny inline script marks ``<html data-images-ready="yes">`` once every chart image has
decoded, which the headless-browser test reads back.
"""

from __future__ import annotations

import base64
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

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
from application.report_data import ReportData
from ledger.store import CHANNEL_ORDER
from ledger.uncertainty import range_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from application.data import RequestRow


def _escaped(value: Any) -> Markup:
    """Each ``{{ value }}`` as ``html.escape`` writes it (``&#x27;``, ``&quot;``), ``None`` as nothing.

    Autoescaping would escape it anyway; this keeps the entities the page has always had.
    """
    if isinstance(value, Markup):
        return value
    return Markup(escape("" if value is None else str(value)))  # noqa: S704 - escaped just here


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _share(n: int, total: int) -> str:
    return _pct(n / total) if total else "–"


@pass_context
def _local(context: Context, moment: datetime, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A moment in the report's time zone."""
    return moment.astimezone(context["data"].zone).strftime(pattern)


def _commas(values: Iterable[Any]) -> str:
    """Joined with ``", "`` as plain text (escaped once, on output)."""
    return ", ".join(str(v) for v in values)


def _also_arrived(row: RequestRow) -> str:
    """Where else the request arrived besides its first arrival: ``Dedicated line, Station C-6, D-14``."""
    out = []
    for channel in row.channels:
        if channel == "station_fax":
            stations = sorted({a.station or "?" for a in row.arrivals if a.channel == channel} - {row.first.station})
            if stations:
                out.append("Station " + ", ".join(stations))
        elif channel != row.first.channel:
            out.append(channel_label(channel, short=True))
    return ", ".join(out)


def _figure_value(key: str, value: Any) -> str:
    """A figure's value as the definitions table shows it."""
    if key == "range_components":
        return ", ".join(f"{k} {lo:+d}/{hi:+d}" for k, (lo, hi) in value.items() if lo or hi) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and len(value) == 2:
        return "–".join(f"{v:.4f}" if isinstance(v, float) else f"{v:,}" for v in value)
    if isinstance(value, dict):
        return "see above"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


_env = Environment(
    loader=PackageLoader("application", "templates"),
    autoescape=True,
    finalize=_escaped,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters.update(
    num=lambda n: f"{n:,}",
    fmt=format,
    pct=_pct,
    share=_share,
    local=_local,
    commas=_commas,
    base64=lambda svg: base64.b64encode(svg).decode("ascii"),
)
_env.globals.update(
    figures=FIGURE_BY_KEY,
    figure_list=FIGURES,
    figure_value=_figure_value,
    channel_order=CHANNEL_ORDER,
    channel_labels=CHANNEL_LABELS,
    channel_label=channel_label,
    outcome_labels=OUTCOME_LABELS,
    not_recorded=NOT_RECORDED,
    list_only_reasons=LIST_ONLY_REASONS,
    rule_labels=RULE_LABELS,
    range_text=range_text,
    also_arrived=_also_arrived,
)


def render(data: ReportData) -> str:
    m = data.metrics
    r = data.reconciliation
    return _env.get_template("report.html.j2").render(
        data=data,
        m=m,
        d=data.dispositions,
        monthly_svg=charts.monthly_chart(m["by_month"]),
        station_svg=charts.station_chart(m["by_station"]),
        list_entries={e.row: e for e in r.entries} if r is not None else {},
    )
