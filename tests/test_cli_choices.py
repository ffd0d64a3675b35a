"""Options with a fixed set of values are typed: a bad value is typer's usage error (exit 2) naming
the choices, before any configuration is read; a good one (any case, where the option says so) passes."""

from __future__ import annotations

import typing
from enum import Enum
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from application.definitions import OUTCOME_LABELS
from core.channels import Channel
from core.config import CONFIG_ENV
from detainer_intake.cli import app
from detainer_intake.commands.choices import CorrectableField, DispositionStatus
from parsing.models import DetainerRequest

# (command line with a bad value, the parameter, its choices)
BAD_VALUES: list[tuple[list[str], str, list[str]]] = [
    (["backfill", "--channel", "fax"], "channel", [c.value for c in Channel]),
    (
        ["disposition", "REQ-1", "--status", "released", "--who", "Lt. One"],
        "status",
        [s.value for s in DispositionStatus],
    ),
    (
        ["review", "correct", "REQ-1", "alien_number", "A012345678", "--who", "Lt. One"],
        "field",
        [f.value for f in CorrectableField],
    ),
]


@pytest.fixture(autouse=True)
def _no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(("args", "param", "choices"), BAD_VALUES, ids=[" ".join(b[0][:2]) for b in BAD_VALUES])
def test_a_bad_value_is_a_usage_error_listing_the_choices(args: list[str], param: str, choices: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    message = _flat(result.output)
    assert "Invalid value" in message
    assert all(f"'{choice}'" in message for choice in choices), message


@pytest.mark.parametrize(
    "args",
    [
        ["disposition", "REQ-1", "--status", "Not-Acted-Upon", "--who", "Lt. One"],
        ["backfill", "--channel", "bfs_email"],
        ["review", "correct", "REQ-1", "file_number", "A012345678", "--who", "Lt. One"],
    ],
)
def test_a_good_value_passes_to_the_command(args: list[str]) -> None:
    # past the options: the command itself then stops for want of a configuration (exit 4)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 4, result.output


def _has_choices(annotation: Any) -> bool:
    """An Enum or a Literal, alone or in a union (``X | None``)."""
    if isinstance(annotation, type):
        return issubclass(annotation, Enum)
    return typing.get_origin(annotation) is typing.Literal or any(_has_choices(a) for a in typing.get_args(annotation))


def _choice_params(command: Any, path: tuple[str, ...] = ()) -> set[tuple[tuple[str, ...], str]]:
    found = {(path, p.name) for p in command.params if _has_choices(p.type_descriptor.annotation)}
    for name, sub in getattr(command, "commands", {}).items():
        found |= _choice_params(sub, (*path, name))
    return found


def test_every_typed_option_has_its_bad_value_test() -> None:
    """A new option with choices is added to BAD_VALUES (and so tested above)."""
    root = typer.main.get_command(app)
    tested = set()
    for args, param, _ in BAD_VALUES:
        path = tuple(args[:2]) if args[0] == "review" else (args[0],)
        tested.add((path, param))
    assert _choice_params(root) == tested


def test_the_choices_are_the_values_the_stages_take() -> None:
    assert {f.value for f in CorrectableField} == set(DetainerRequest.model_fields) - {"evidence"}
    assert [s.outcome for s in DispositionStatus] == list(OUTCOME_LABELS)
