"""application: what auditors and operators read from the ledger.

- ``build_report`` (``application.report``) writes the annual report: ``requests.csv``,
  ``summary.json`` and ``report.html``;
- ``application.reconcile`` compares the ledger with a list someone else says it sent;
- ``application.review`` serves the operators' review queue (items, field values, page crops);
- ``detainer_intake.commands.reports`` holds the command bodies ``detainer_intake.cli`` wires to typer.

Read-only apart from the operator commands, which write through ``ledger.store.Ledger``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReportPaths", "build_report"]


def __getattr__(name: str) -> Any:  # lazy: matplotlib is only imported when a report is built
    if name in __all__:
        from application import report

        return getattr(report, name)
    raise AttributeError(name)
