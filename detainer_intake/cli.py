"""The operator command line: `detainer-intake COMMAND`.

Thin on purpose: each command parses its options, loads the configuration and calls
one function of a stage. Typed errors become their exit code and a remedy line;
nothing personal is printed unless a command says so.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer

from core.channels import Channel
from core.config import CONFIG_ENV, Settings, load_settings
from core.errors import IntakeError, RunLocked
from core.logs import redact
from detainer_intake import __version__
from detainer_intake.commands.choices import CorrectableField, DispositionStatus

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Detainer intake: channels -> OCR -> ledger -> metrics and reports.",
    # Help texts are shown as written: no rich markup (it ate "[dedupe]") and no markdown (it drops
    # "<sha256>"). The root's mode is every subcommand's.
    rich_markup_mode=None,
)
db_app = typer.Typer(no_args_is_help=True, help="Ledger database maintenance.")
app.add_typer(db_app, name="db")
config_app = typer.Typer(no_args_is_help=True, help="Write a configuration template; show the effective settings.")
app.add_typer(config_app, name="config")
archive_app = typer.Typer(no_args_is_help=True, help="The archive of received files: check it against the ledger.")
app.add_typer(archive_app, name="archive")

ConfigOption = typer.Option(
    None,
    "--config",
    "-c",
    help="Configuration TOML (default: $DETAINER_INTAKE_CONFIG; none else: write one with `config init`).",
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


def raise_if_refused(state: Any) -> None:
    """A flow refused by the run lock ends with RunLocked's exit code (7) and remedy, not a generic failure."""
    if state.is_failed():
        try:
            outcome = state.result(raise_on_failure=False)
        except Exception:  # no result to look at: a generic failure
            return
        if isinstance(outcome, RunLocked):
            raise outcome


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
    from core.logs import configure_console
    from flows.daily import run_daily_intake

    configure_console()
    settings = settings_from(config)
    started = datetime.now(UTC)
    state = run_daily_intake(config, settings)
    raise_if_refused(state)
    _print_summary(settings, started)
    if not state.is_completed():
        typer.secho(f"intake run ended {state.type.value}: {redact(state.message or '')}", fg="red", err=True)
        typer.echo("remedy: fix the cause above and run the same command again; nothing is counted twice.", err=True)
        raise typer.Exit(1)


def _print_summary(settings: Settings, since: datetime | None = None) -> None:
    """Each channel as the run begun at ``since`` found it (read, failed, disabled; none: a backfill of a
    folder, which polls no channel), then each year's metrics."""
    from detainer_intake.commands.ledger import metrics_command, run_channels_lines
    from flows.steps import Intake, years_in_ledger

    intake = Intake.open(settings)
    try:
        years = years_in_ledger(intake)
        polls = intake.ledger.poll_records()
    finally:
        intake.close()
    if since is not None:
        typer.echo("channels this run: " + "; ".join(run_channels_lines(polls, since)))
    if not years:
        typer.echo("The ledger holds no detainer requests yet.")
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
    from detainer_intake.commands.extract import extract_command

    raise typer.Exit(extract_command(paths, as_json, _extract_settings(config), config))


def _extract_settings(config: Path | None) -> Settings:
    """The configuration when one is given; else the built-in defaults (and the environment's overrides):
    extract touches no ledger, archive or channel, and the sample's department names are never a fallback."""
    if config is None and not os.environ.get(CONFIG_ENV):
        from pydantic import ValidationError

        from core.errors import ConfigError

        try:
            return Settings()
        except ValidationError as exc:
            problems = exc.error_count()
            raise ConfigError(f"invalid DETAINER_INTAKE_ environment override ({problems} problem(s))") from None
    return settings_from(config)


@app.command()
@handles_errors
def metrics(
    year: int = typer.Option(..., "--year", help="Calendar year, in the department's time zone."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    config: Path | None = ConfigOption,
) -> None:
    """Channel-usage metrics of one year, computed from the ledger."""
    from detainer_intake.commands.ledger import metrics_command

    raise typer.Exit(metrics_command(settings_from(config), year, as_json))


@app.command()
@handles_errors
def backfill(
    folder: Path | None = typer.Option(None, "--folder", help="Folder of historical exports to read instead."),
    channel: Channel = typer.Option(
        Channel.station_fax, "--channel", help="With --folder: the channel its files came on."
    ),
    since: str | None = typer.Option(None, "--since", help="First receive date to take (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Last receive date to take (YYYY-MM-DD)."),
    config: Path | None = ConfigOption,
) -> None:
    """Run the intake pipeline over historical exports and/or a date range, with a progress bar.

    With --folder and --channel station_fax, the folder holds one subfolder per station code.
    """
    from datetime import date

    from rich.progress import Progress

    from core.errors import ConfigError
    from core.logs import configure_console
    from flows import progress as flow_progress
    from flows.daily import run_backfill

    configure_console()
    settings = settings_from(config)
    try:
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
    except ValueError as exc:
        raise ConfigError(f"bad option: {exc}") from None
    started = datetime.now(UTC)
    with Progress() as bar:
        task_id = bar.add_task("backfill", total=None)
        flow_progress.set_listener(lambda done, total: bar.update(task_id, completed=done, total=total or None))
        try:
            state = run_backfill(
                config,
                settings,
                folder=str(folder.resolve()) if folder else None,
                channel=channel,
                since=first,
                until=last,
            )
        finally:
            flow_progress.set_listener(None)
    raise_if_refused(state)
    _print_summary(settings, None if folder else started)  # a folder's backfill polls no channel
    if not state.is_completed():
        typer.secho(f"backfill ended {state.type.value}: {redact(state.message or '')}", fg="red", err=True)
        raise typer.Exit(1)


@app.command()
@handles_errors
def serve(config: Path | None = ConfigOption) -> None:
    """Serve the deployments: daily_intake on its schedule, backfill and annual_report to run from the UI,
    archive_verify monthly (needs `prefect server start` and PREFECT_API_URL). Stopping it pauses the schedules."""
    from flows.deploy import serve_daily

    serve_daily(config, settings_from(config))


alerts_app = typer.Typer(
    no_args_is_help=True, help="Notify someone when a run fails or no daily run completes (Prefect automations)."
)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("install")
@handles_errors
def alerts_install(
    webhook: str | None = typer.Option(None, "--webhook", help="POST {subject, body} as JSON to this URL."),
    email: str | None = typer.Option(
        None,
        "--email",
        help="Send e-mail through this SMTP relay: an Apprise URL, mailtos://HOST:587?to=ADDRESS&from=ADDRESS.",
    ),
    block: str | None = typer.Option(
        None, "--block", help="Send through this notification block already on the server instead (TYPE/NAME)."
    ),
    hours: float = typer.Option(26.0, "--hours", help="Alert when no daily run has completed for this long."),
) -> None:
    """Create (or replace) the alerts on the Prefect server of PREFECT_API_URL: a failed, crashed or timed-out
    run, and no completed daily run within --hours."""
    from flows.alerts import install_alerts

    installed = install_alerts(webhook=webhook, block=block, hours=hours, email=email)
    for name, automation_id in installed.automations.items():
        typer.echo(f"automation {name!r} ({automation_id}) -> {installed.block}")


@alerts_app.command("remove")
@handles_errors
def alerts_remove() -> None:
    """Delete the alerts' automations (the notification block is left)."""
    from flows.alerts import remove_alerts

    for name in remove_alerts():
        typer.echo(f"removed automation {name!r}")


review_app = typer.Typer(
    no_args_is_help=True, help="The operators' review queue: doubtful fields, uncertain matches, quarantined inputs."
)
app.add_typer(review_app, name="review")
WhoOption = typer.Option(
    ...,
    "--who",
    envvar="DETAINER_INTAKE_WHO",
    help="Who makes this change (default: $DETAINER_INTAKE_WHO); kept in the audit trail with the OS user and host.",
)
WhyOption = typer.Option(
    None, "--why", help="Why (free text, kept with the decision; shown by `audit` only with --include-pii)."
)
ColumnOptions = {
    "col_a_number": typer.Option(
        None, "--col-a-number", help="The list's A-number column (header text or 1-based number)."
    ),
    "col_event": typer.Option(
        None, "--col-event", help="The list's event number column (header text or 1-based number)."
    ),
    "col_date": typer.Option(None, "--col-date", help="The list's date column (header text or 1-based number)."),
    "window_days": typer.Option(
        None,
        "--window-days",
        help="Days a list date may differ from the request's (default: [dedupe] issued_window_days).",
    ),
}


report_app = typer.Typer()  # its help: report's docstring
app.add_typer(report_app, name="report")


@report_app.callback(invoke_without_command=True)
@handles_errors
def report(
    ctx: typer.Context,
    year: int | None = typer.Option(None, "--year", help="Calendar year, in the department's time zone."),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for report.html, summary.json, requests.csv and MANIFEST.sha256 (created 0700)."
    ),
    include_pii: bool = typer.Option(
        False, "--include-pii", help="Add names, dates of birth, A-numbers, event numbers."
    ),
    reconcile_list: Path | None = typer.Option(
        None, "--reconcile", help="Reconcile with this list (CSV) in the report.", exists=True, dir_okay=False
    ),
    col_a_number: str | None = ColumnOptions["col_a_number"],
    col_event: str | None = ColumnOptions["col_event"],
    col_date: str | None = ColumnOptions["col_date"],
    window_days: int | None = ColumnOptions["window_days"],
    config: Path | None = ConfigOption,
) -> None:
    """Write the annual report: report.html (print it), summary.json (figures, definitions, commands, provenance),
    requests.csv, MANIFEST.sha256 (the files' SHA-256). `report verify DIR` checks a written one."""
    from detainer_intake.commands.reports import report_command

    if ctx.invoked_subcommand is not None:
        if year is not None or out is not None:
            raise typer.BadParameter(f"not with `report {ctx.invoked_subcommand}`", param_hint="--year/--out")
        return
    if year is None:
        raise typer.BadParameter("missing: the report's calendar year", param_hint="--year")
    if out is None:
        raise typer.BadParameter("missing: the folder to write the report into", param_hint="--out")
    raise typer.Exit(
        report_command(
            settings_from(config),
            year,
            out,
            include_pii,
            reconcile_list,
            col_a_number,
            col_event,
            col_date,
            window_days,
        )
    )


@report_app.command("verify")
@handles_errors
def report_verify(
    directory: Path = typer.Argument(..., help="The report's folder (it holds summary.json and MANIFEST.sha256)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of lines."),
    config: Path | None = ConfigOption,
) -> None:
    """Check a written report: re-hash its files against MANIFEST.sha256 and recompute its figures from the
    ledger (the same code that wrote them, in the report's time zone). Exit 0 when all still match; exit 9
    naming each figure that moved (old -> new) and each file changed or missing."""
    from detainer_intake.commands.reports import report_verify_command

    raise typer.Exit(report_verify_command(settings_from(config), directory, as_json))


@app.command()
@handles_errors
def reconcile(
    list_path: Path = typer.Argument(
        ..., help="The list (CSV) of requests someone says were sent.", exists=True, dir_okay=False
    ),
    year: int = typer.Option(..., "--year", help="Calendar year, in the department's time zone."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    include_pii: bool = typer.Option(False, "--include-pii", help="Also print A-numbers, event numbers and dates."),
    col_a_number: str | None = ColumnOptions["col_a_number"],
    col_event: str | None = ColumnOptions["col_event"],
    col_date: str | None = ColumnOptions["col_date"],
    window_days: int | None = ColumnOptions["window_days"],
    config: Path | None = ConfigOption,
) -> None:
    """Compare the ledger with an external list: matched, on the list only, in the ledger only."""
    from detainer_intake.commands.reports import reconcile_command

    raise typer.Exit(
        reconcile_command(
            settings_from(config), year, list_path, as_json, include_pii, col_a_number, col_event, col_date, window_days
        )
    )


@app.command()
@handles_errors
def disposition(
    request_id: str = typer.Argument(..., help="Request id (REQ-...), as in the report."),
    status: DispositionStatus = typer.Option(
        ..., "--status", case_sensitive=False, help="What the department did with the request."
    ),
    who: str = WhoOption,
    reimbursement: str | None = typer.Option(None, "--reimbursement", help="Amount received, e.g. 1250.00."),
    note: str | None = typer.Option(
        None, "--note", help="Free text (kept in the ledger; in reports only with --include-pii)."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Record what the department did with a request (audited)."""
    from detainer_intake.commands.reports import disposition_command

    raise typer.Exit(disposition_command(settings_from(config), request_id, status.value, who, reimbursement, note))


@app.command()
@handles_errors
def dispositions(
    year: int = typer.Option(..., "--year", help="Calendar year, in the department's time zone."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    config: Path | None = ConfigOption,
) -> None:
    """Disposition figures of one year's requests (detained, transferred, not recorded, reimbursements)."""
    from detainer_intake.commands.reports import dispositions_command

    raise typer.Exit(dispositions_command(settings_from(config), year, as_json))


@review_app.command("list")
@handles_errors
def review_list(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    all_items: bool = typer.Option(False, "--all", help="Resolved items too."),
    config: Path | None = ConfigOption,
) -> None:
    """Open review items with their source (file or mail message) and reason."""
    from detainer_intake.commands.review import review_list_command

    raise typer.Exit(review_list_command(settings_from(config), as_json, all_items))


@review_app.command("show")
@handles_errors
def review_show(
    item_id: int = typer.Argument(..., help="Review item number (from `review list`)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the page crops (default: next to the archive)."),
    config: Path | None = ConfigOption,
) -> None:
    """Field values with confidence, and a PNG crop of the page around each value (prints personal data)."""
    from detainer_intake.commands.review import review_show_command

    raise typer.Exit(review_show_command(settings_from(config), item_id, out))


@review_app.command("correct")
@handles_errors
def review_correct(
    target: str = typer.Argument(
        ..., help="Copy key <sha256>:<index> (a unique prefix will do), request id or item number."
    ),
    field: CorrectableField = typer.Argument(
        ..., help="The field to correct, e.g. file_number, event_number, issued_date, subject_name."
    ),
    value: str = typer.Argument(..., help="The correct value ('' or null to clear; lists comma-separated)."),
    who: str = WhoOption,
    why: str | None = WhyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Correct one field of one detainer copy; wins over OCR on reprocessing; audited."""
    from detainer_intake.commands.review import review_correct_command

    raise typer.Exit(review_correct_command(settings_from(config), target, field.value, value, who, why))


@review_app.command("accept")
@handles_errors
def review_accept(
    item_id: int = typer.Argument(..., help="Review item number."),
    who: str = WhoOption,
    why: str | None = WhyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Resolve an item as it stands (for a match: its suggested decision becomes the operator's)."""
    from detainer_intake.commands.review import review_accept_command

    raise typer.Exit(review_accept_command(settings_from(config), item_id, who, why=why))


@review_app.command("detainer")
@handles_errors
def review_detainer(
    item_id: int = typer.Argument(..., help="Review item number of a possible detainer."),
    who: str = WhoOption,
    why: str | None = WhyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Rule that a possible detainer is one: its document gains a detainer copy (fill it in with
    `review correct`) that counts as a request and is deduplicated like any copy."""
    from detainer_intake.commands.review import review_accept_command

    raise typer.Exit(review_accept_command(settings_from(config), item_id, who, resolution="detainer", why=why))


@review_app.command("dismiss")
@handles_errors
def review_dismiss(
    item_id: int = typer.Argument(..., help="Review item number."),
    who: str = WhoOption,
    why: str | None = WhyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Close an item without a change (a possible detainer: it is not a detainer)."""
    from detainer_intake.commands.review import review_accept_command

    raise typer.Exit(review_accept_command(settings_from(config), item_id, who, resolution="dismiss", why=why))


@review_app.command("merge")
@handles_errors
def review_merge(
    a: str = typer.Argument(..., help="Copy key or request id."),
    b: str = typer.Argument(..., help="Copy key or request id."),
    who: str = WhoOption,
    why: str | None = WhyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Rule that two copies are the same request (audited; survives reprocessing)."""
    from detainer_intake.commands.review import review_merge_command

    raise typer.Exit(review_merge_command(settings_from(config), a, b, who, why))


@review_app.command("split")
@handles_errors
def review_split(
    a: str = typer.Argument(..., help="Copy key or request id."),
    b: str = typer.Argument(..., help="Copy key or request id."),
    who: str = WhoOption,
    why: str | None = WhyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Rule that two copies are different requests (audited; survives reprocessing)."""
    from detainer_intake.commands.review import review_split_command

    raise typer.Exit(review_split_command(settings_from(config), a, b, who, why))


@app.command()
@handles_errors
def audit(
    request_id: str | None = typer.Argument(None, help="Request id (REQ-...); or give --since."),
    since: str | None = typer.Option(
        None, "--since", help="Every operator act since this date (YYYY-MM-DD, department's zone) instead."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    include_pii: bool = typer.Option(
        False, "--include-pii", help="Add the copies' fields, corrected values, senders and free text (why, notes)."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """A request's whole story (copies, arrivals, grouping rules, decisions, dispositions), or every act
    since a date; no personal data without --include-pii."""
    from detainer_intake.commands.audit import audit_command

    raise typer.Exit(audit_command(settings_from(config), request_id, since, as_json, include_pii))


@app.command()
@handles_errors
def evidence(
    request_id: str = typer.Argument(..., help="Request id (REQ-...)."),
    out: Path = typer.Option(..., "--out", help="The PDF to write (0600)."),
    include_pii: bool = typer.Option(
        False, "--include-pii", help="Keep the personal values in the text and on the page images (else redacted)."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """One request's evidence packet (PDF): summary, every arrival and fax header, the fields read, the grouping
    rules, every decision and disposition, each received page with the fields' boxes drawn; redacted (personal
    values left out, their boxes blacked out) without --include-pii."""
    from detainer_intake.commands.evidence import evidence_command

    raise typer.Exit(evidence_command(settings_from(config), request_id, out, include_pii))


@archive_app.command("verify")
@handles_errors
def archive_verify(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of lines."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress on stderr."),
    config: Path | None = ConfigOption,
) -> None:
    """Re-hash every archived file against the ledger: missing, corrupt, unreferenced (exit 8 on any)."""
    from detainer_intake.commands.audit import archive_verify_command

    raise typer.Exit(archive_verify_command(settings_from(config), as_json, progress=not quiet))


mailbox_app = typer.Typer(no_args_is_help=True, help="The BFS mailbox: what it holds and what a run would take.")
app.add_typer(mailbox_app, name="mailbox")


@mailbox_app.command("inspect")
@handles_errors
def mailbox_inspect(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of lines."),
    config: Path | None = ConfigOption,
) -> None:
    """Dry run: log in, show the server's capabilities, each folder's messages and dates, and what the next run
    would fetch; nothing is fetched, marked or recorded."""
    from detainer_intake.commands.mailbox import inspect_command

    raise typer.Exit(inspect_command(settings_from(config), as_json))


@mailbox_app.command("check")
@handles_errors
def mailbox_check(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of lines."),
    config: Path | None = ConfigOption,
) -> None:
    """mailbox inspect that exits 5 when the mailbox cannot be opened or a problem is listed (for scripts and
    monitoring)."""
    from detainer_intake.commands.mailbox import inspect_command

    raise typer.Exit(inspect_command(settings_from(config), as_json, strict=True))


@config_app.command("init")
@handles_errors
def config_init(
    path: Path = typer.Argument(Path("config.toml"), help="Where to write the template (default: ./config.toml)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Write a commented configuration template (every key with its default; mode 0600)."""
    from detainer_intake.commands.config import init_command

    raise typer.Exit(init_command(path, force))


@config_app.command("show")
@handles_errors
def config_show(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of TOML."),
    config: Path | None = ConfigOption,
) -> None:
    """Print the settings a command would use (file, then environment overrides), secrets masked."""
    from detainer_intake.commands.config import show_command

    raise typer.Exit(show_command(settings_from(config), as_json))


@app.command()
@handles_errors
def doctor(config: Path | None = ConfigOption) -> None:
    """Check this machine and configuration: Tesseract, poppler, ledger, archive, channels, Prefect API.

    One line per check; exit 1 when any fails (4 when the configuration itself cannot be read).
    """
    from detainer_intake.commands.doctor import doctor_command

    raise typer.Exit(doctor_command(settings_from(config)))


@db_app.command("upgrade")
@handles_errors
def db_upgrade(
    sql: bool = typer.Option(
        False, "--sql", help="Print the SQL script instead, for a DBA to review; the database is not touched."
    ),
    start: str | None = typer.Option(
        None, "--from", help="With --sql: the database's revision (default: an empty database)."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Create the ledger database or bring it to the current schema (or, with --sql, print how)."""
    from detainer_intake.commands.ledger import db_upgrade_command

    if start is not None and not sql:
        raise typer.BadParameter("only with --sql", param_hint="--from")
    raise typer.Exit(db_upgrade_command(settings_from(config), sql=sql, start=start))


def main() -> None:  # pragma: no cover - console entry for `python -m detainer_intake`
    sys.exit(app())
