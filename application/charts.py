"""The report's charts (matplotlib, Agg backend) as SVG bytes: text as paths, no fonts needed,
no timestamps, so the same figures always give the same bytes."""

from __future__ import annotations

import io
from calendar import month_abbr
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from application.definitions import CHANNEL_LABELS
from ledger.store import CHANNEL_ORDER

# Colour-blind-safe (Okabe-Ito) and distinct in greyscale print: dark, mid, light.
CHANNEL_COLOURS = {"dedicated_fax": "#0b4f8a", "station_fax": "#e69f00", "bfs_email": "#7fb8de"}
INK = "#1f2933"
GRID = "#d9dee3"
STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "path",
    "svg.hashsalt": "detainer-intake",
}


def _svg(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def monthly_chart(by_month: dict[str, dict[str, int]]) -> bytes:
    """Requests per month of first arrival, stacked by first channel."""
    months = sorted(by_month)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10.0, 3.6))
        bottoms = [0] * len(months)
        labels = [month_abbr[int(m[-2:])] for m in months]
        for channel in CHANNEL_ORDER:
            values = [by_month[m].get(channel, 0) for m in months]
            ax.bar(
                labels,
                values,
                bottom=bottoms,
                color=CHANNEL_COLOURS[channel],
                width=0.68,
                label=CHANNEL_LABELS[channel],
                edgecolor="white",
                linewidth=0.6,
            )
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        top = max(bottoms, default=0)
        for x, total in enumerate(bottoms):
            if total:
                ax.text(x, total + top * 0.02, str(total), ha="center", va="bottom", fontsize=8, color=INK)
        ax.set_ylim(0, max(1, top) * 1.15)
        ax.set_ylabel("Requests (first arrival)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
        return _svg(fig)


def station_chart(by_station: dict[str, int]) -> bytes:
    """Requests whose first arrival was each station's fax, largest first."""
    items = sorted(by_station.items(), key=lambda kv: (-kv[1], kv[0]))
    with plt.rc_context(STYLE):
        height = 1.0 + 0.3 * max(1, len(items))
        fig, ax = plt.subplots(figsize=(10.0, height))
        if items:
            names = [k for k, _ in items][::-1]
            values = [v for _, v in items][::-1]
            bars = ax.barh(names, values, color=CHANNEL_COLOURS["station_fax"], height=0.62)
            ax.bar_label(bars, padding=3, fontsize=8, color=INK)
            ax.set_xlim(0, max(values) * 1.12)
        else:
            ax.text(
                0.5,
                0.5,
                "No request first arrived by a station fax",
                ha="center",
                va="center",
                transform=ax.transAxes,
                color=INK,
            )
            ax.set_yticks([])
        ax.set_xlabel("Requests first received by the station's fax")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        return _svg(fig)
