"""Body of ``detainer-intake doctor``; the checks themselves are ``application.doctor``."""

from __future__ import annotations

import typer

from application.doctor import run_checks
from core.config import Settings
from core.errors import ExitCode

# Exit code when a check fails: 1, as a run that ended Failed (README, "Operations").
CHECK_FAILED = 1


def doctor_command(settings: Settings) -> int:
    """One line per check (``ok|FAIL <check>: <detail> — remedy``); 0 when all pass, else 1."""
    checks = run_checks(settings)
    typer.echo(f"configuration: {settings.config_path}")
    for check in checks:
        typer.secho(check.line(), fg=None if check.ok else "red")
    failed = [check for check in checks if not check.ok]
    if failed:
        typer.secho(f"{len(failed)} of {len(checks)} checks failed", fg="red", err=True)
        return CHECK_FAILED
    typer.echo(f"all {len(checks)} checks passed")
    return int(ExitCode.ok)
