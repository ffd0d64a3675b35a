"""The operator command line: `detainer-intake COMMAND`.

Thin on purpose: each command parses its options, loads the configuration and calls
one function of a stage. Typed errors become their exit code and a remedy line;
nothing personal is printed unless a command says so.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from detainer_intake import __version__
from detainer_intake.config import Settings, load_settings
from detainer_intake.errors import IntakeError
from detainer_intake.logs import redact

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Detainer intake: channels -> OCR -> ledger -> metrics and reports.",
)
db_app = typer.Typer(no_args_is_help=True, help="Ledger database maintenance.")
app.add_typer(db_app, name="db")

ConfigOption = typer.Option(
    None, "--config", "-c", help="Configuration TOML (default: $DETAINER_INTAKE_CONFIG, then config/sample.toml)."
)
F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(func: F) -> F:
    """Turn typed errors into their exit code and a remedy, without a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except IntakeError as exc:
            typer.secho(f"error: {redact(exc.message)}", fg="red", err=True)
            if exc.remedy:
                typer.echo(f"remedy: {exc.remedy}", err=True)
            raise typer.Exit(int(exc.exit_code)) from None

    return wrapper  # type: ignore[return-value]


def settings_from(config: Path | None) -> Settings:
    return load_settings(config)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
@handles_errors
def run(config: Path | None = ConfigOption) -> None:
    """Run the daily intake now, in-process (no server needed), then print the channel-usage summary.

    Safe to rerun at any time: work already committed is skipped, nothing is counted twice.
    """
    from detainer_intake.logs import configure_console
    from flows.daily import run_daily_intake

    configure_console()
    settings = settings_from(config)
    state = run_daily_intake(config, settings)
    _print_summary(settings)
    if not state.is_completed():
        typer.secho(f"intake run ended {state.type.value}: {redact(state.message or '')}", fg="red", err=True)
        typer.echo("remedy: fix the cause above and run the same command again; nothing is counted twice.", err=True)
        raise typer.Exit(1)


def _print_summary(settings: Settings) -> None:
    from flows.steps import Intake, years_in_ledger
    from ledger.cli import metrics_command

    intake = Intake.open(settings)
    try:
        years = years_in_ledger(intake)
    finally:
        intake.close()
    for year in years:
        metrics_command(settings, year, as_json=False)


@app.command()
@handles_errors
def extract(
    paths: list[Path] = typer.Argument(..., help="Files to read: PDF, TIFF, PNG, JPEG or .eml."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per input and line."),
    config: Path | None = ConfigOption,
) -> None:
    """OCR and extract detainer fields from files, without touching the ledger (prints personal data)."""
    from parsing.cli import extract_command

    raise typer.Exit(extract_command(paths, as_json, settings_from(config)))


@app.command()
@handles_errors
def metrics(
    year: int = typer.Option(..., "--year", help="Calendar year, in the department's time zone."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    config: Path | None = ConfigOption,
) -> None:
    """Channel-usage metrics of one year, computed from the ledger."""
    from ledger.cli import metrics_command

    raise typer.Exit(metrics_command(settings_from(config), year, as_json))


@app.command()
@handles_errors
def backfill(
    folder: Path | None = typer.Option(None, "--folder", help="Folder of historical exports to read instead."),
    channel: str = typer.Option("station_fax", "--channel", help="dedicated_fax | station_fax | bfs_email"),
    since: str | None = typer.Option(None, "--since", help="First receive date to take (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Last receive date to take (YYYY-MM-DD)."),
    config: Path | None = ConfigOption,
) -> None:
    """Run the intake pipeline over historical exports and/or a date range, with a progress bar.

    With --folder and --channel station_fax, the folder holds one subfolder per station code.
    """
    from datetime import date

    from rich.progress import Progress

    from detainer_intake.errors import ConfigError
    from detainer_intake.logs import configure_console
    from flows import progress as flow_progress
    from flows.daily import run_backfill
    from ingest.models import Channel

    configure_console()
    settings = settings_from(config)
    try:
        chosen = Channel(channel)
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
    except ValueError as exc:
        raise ConfigError(f"bad option: {exc}") from None
    with Progress() as bar:
        task_id = bar.add_task("backfill", total=None)
        flow_progress.set_listener(lambda done, total: bar.update(task_id, completed=done, total=total or None))
        try:
            state = run_backfill(
                config,
                settings,
                folder=str(folder.resolve()) if folder else None,
                channel=chosen,
                since=first,
                until=last,
            )
        finally:
            flow_progress.set_listener(None)
    _print_summary(settings)
    if not state.is_completed():
        typer.secho(f"backfill ended {state.type.value}: {redact(state.message or '')}", fg="red", err=True)
        raise typer.Exit(1)


@app.command()
@handles_errors
def serve(config: Path | None = ConfigOption) -> None:
    """Serve the scheduled daily deployment (needs `prefect server start` and PREFECT_API_URL)."""
    from flows.deploy import serve_daily

    serve_daily(config, settings_from(config))


@db_app.command("upgrade")
@handles_errors
def db_upgrade(config: Path | None = ConfigOption) -> None:
    """Create the ledger database or bring it to the current schema."""
    from ledger.cli import db_upgrade_command

    raise typer.Exit(db_upgrade_command(settings_from(config)))


def main() -> None:  # pragma: no cover - console entry for `python -m detainer_intake`
    sys.exit(app())
