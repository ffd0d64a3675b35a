"""Every command's and subcommand's ``--help`` renders its texts as written: a bracketed word such as
``[dedupe]`` (a configuration section) or ``<sha256>`` is shown, not taken for markup. The commands
are walked from the typer app, so a new command is covered without a change here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import CliRunner

from detainer_intake.cli import app

BRACKETED = re.compile(r"\[[^\[\]\s]+\]|<[^<>\s]+>")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under ``command`` (typer's click commands and groups), with its words on the command line."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _texts(command: Any) -> list[str]:
    texts = [command.help or ""]
    texts += [getattr(param, "help", None) or "" for param in command.params]
    return texts


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_help_exits_0_and_shows_its_bracketed_words() -> None:
    root = typer.main.get_command(app)
    runner = CliRunner()
    checked: dict[str, list[str]] = {}
    commands = list(_commands(root))
    assert len(commands) > 20  # the walk found the commands and the subcommands
    for path, command in commands:
        result = runner.invoke(app, [*path, "--help"])
        name = " ".join(path) or "(root)"
        assert result.exit_code == 0, f"{name} --help: {result.output}"
        words = [w for text in _texts(command) for w in BRACKETED.findall(text.split("\f")[0])]
        shown = _flat(result.output)
        missing = [w for w in words if w not in shown]
        assert not missing, f"{name} --help does not show {missing}"
        checked[name] = words
    # the walk met the words that were eaten: reconcile's and report's --window-days, review correct's copy key
    assert "[dedupe]" in checked["reconcile"] and "[dedupe]" in checked["report"]
    assert "<sha256>" in checked["review correct"]
