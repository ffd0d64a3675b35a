"""The operator command line: `detainer-intake COMMAND`. Thin: parses options, calls the stages."""

from __future__ import annotations

from pathlib import Path

import typer

from detainer_intake import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

ConfigOption = typer.Option(
    None, "--config", "-c", help="Configuration TOML (default: $DETAINER_INTAKE_CONFIG, then config/sample.toml)."
)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def _unused(config: Path | None = ConfigOption) -> None:  # placeholder keeps ConfigOption referenced
    return None
