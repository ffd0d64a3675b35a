"""Bodies of ``detainer-intake config init`` and ``config show``; ``detainer_intake.cli`` wires them to typer.

``init`` writes the commented template (``config/template.toml``: every section and key with its
default, secrets only as ``password_env`` / ``password_file`` references), 0600, never over an
existing file unless forced. ``show`` prints the settings a command would use (the file after the
environment's overrides, paths resolved) with every secret masked: a password-like value, and the
password of any URL (``postgresql://u:***@h/db``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from application.doctor import masked_url
from core.config import PROJECT_ROOT, Settings
from core.errors import ConfigError, ExitCode
from core.files import write_private

TEMPLATE = PROJECT_ROOT / "config" / "template.toml"
MASK = "***"
# Keys naming where a secret is (or where a token is fetched), not the secret: shown as they are.
_SECRET_REFERENCES = {"password_env", "password_file", "client_secret_env", "client_secret_file", "token_url"}
_SECRET_KEY = re.compile(r"password|secret|token|api_key", re.IGNORECASE)


def init_command(path: Path, force: bool) -> int:
    """Write the commented template to ``path`` (0600); refuse to replace a file without ``force``."""
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; not overwritten", remedy="Pass --force to replace it.")
    if path.exists() and not path.is_file():
        raise ConfigError(f"{path} is not a file")
    try:
        write_private(path, TEMPLATE.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write {path} ({type(exc).__name__})") from None
    print(f"wrote {path} (mode 0600): set the channels' path/host, then run `detainer-intake doctor --config {path}`")
    return int(ExitCode.ok)


def masked_settings(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, secrets masked, ``None`` values left out (TOML has no null)."""
    data = settings.model_dump(mode="json", exclude={"config_path"})
    data["ledger"]["url"] = settings.ledger_url  # as a command opens it (a relative SQLite path anchored)
    return _masked(data)


def _masked(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_masked(item, key) for item in value]
    if isinstance(value, str):
        if _SECRET_KEY.search(key) and key not in _SECRET_REFERENCES:
            return MASK
        return masked_url(value)
    return value


def show_command(settings: Settings, as_json: bool) -> int:
    data = masked_settings(settings)
    if as_json:
        print(json.dumps({"config_path": str(settings.config_path), **data}, indent=2))
        return int(ExitCode.ok)
    print(f"# effective settings of {settings.config_path} (environment overrides applied, secrets masked)")
    print(to_toml(data), end="")
    return int(ExitCode.ok)


def to_toml(data: dict[str, Any]) -> str:
    """The settings' shape as TOML: nested tables of scalars, lists of scalars and string maps."""
    lines: list[str] = []
    _table(data, [], lines)
    return "\n".join(lines) + "\n"


def _table(data: dict[str, Any], where: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not _is_table(v, where)}
    tables = {k: v for k, v in data.items() if _is_table(v, where)}
    if where and (scalars or not tables):
        if lines:
            lines.append("")
        lines.append(f"[{'.'.join(_key(part) for part in where)}]")
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in tables.items():
        _table(value, [*where, key], lines)


def _is_table(value: Any, where: list[str]) -> bool:
    """The sections ([ledger], [channels.bfs_email]) are tables; a map inside one (station_map) is inline."""
    return isinstance(value, dict) and (not where or where == ["channels"])


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML form for {type(value).__name__}")
