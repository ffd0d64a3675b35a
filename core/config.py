"""One TOML configuration file, validated with pydantic; environment overrides.

Lookup order: ``--config FILE``, then ``$DETAINER_INTAKE_CONFIG``; nothing else. The bundled
``config/sample.toml`` (the sample corpus, a SQLite ledger under ``data/``) is read only when named
(``bin/run-sample`` does): a command without a configuration stops (ConfigError, exit 4) rather than
count another department's sample. Any value can be overridden by an environment variable named
``DETAINER_INTAKE_<SECTION>__<KEY>`` (e.g. ``DETAINER_INTAKE_LEDGER__URL``).
Relative paths are resolved against the configuration file's folder.
Secrets never live here: the mailbox password comes from ``password_env`` or
``password_file``, its OAuth2 client secret or key from ``client_secret_env``, ``client_secret_file``,
``certificate_file`` or ``service_account_file``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = PROJECT_ROOT / "config" / "sample.toml"  # read only when named (bin/run-sample)
CONFIG_ENV = "DETAINER_INTAKE_CONFIG"


class Section(BaseModel):
    """A configuration table: unknown keys are refused (a typo, or a secret that belongs elsewhere)."""

    model_config = ConfigDict(extra="forbid")


class DepartmentSettings(Section):
    name: str = "Police Department"
    timezone: str = "America/New_York"  # receipts are stored in UTC and shown in this zone

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class LedgerSettings(Section):
    url: str = "sqlite:///data/ledger.db"


class ArchiveSettings(Section):
    path: Path = Path("data/archive")
    # OCR results by content hash (personal data: owner-only). Default: "<path>-extractions".
    extraction_cache: Path | None = None
    # A fax file larger than this is not read (into memory or the archive): quarantined too_large by
    # its name and size and left where it is. Files up to it are archived; parsing then applies its
    # own, lower [parsing] max_input_bytes.
    max_file_bytes: int = 512 * 1024 * 1024

    @property
    def extraction_cache_path(self) -> Path:
        return self.extraction_cache or self.path.parent / (self.path.name + "-extractions")


class FolderChannelSettings(Section):
    enabled: bool = True
    path: Path | None = None
    quiet_seconds: float = 30.0  # a file is taken once size and mtime are unchanged this long
    move_processed: bool = False  # move to <path>/processed/ after the ledger commit
    ignore: list[str] = Field(default_factory=lambda: [".*", "*.tmp", "~$*", "*.part", "*.partial"])


class StationChannelSettings(FolderChannelSettings):
    station_map: dict[str, str] = Field(default_factory=dict)  # subfolder name -> station code


class OAuth2Settings(Section):
    """``[channels.bfs_email.oauth2]``: where the mailbox's OAuth2 token comes from (``auth = "oauth2"``).

    Secrets only by reference: ``client_secret_env`` / ``client_secret_file``, ``certificate_file``,
    ``service_account_file``; never the secret itself.
    """

    provider: Literal["microsoft", "google", "generic"] = "microsoft"
    mechanism: Literal["xoauth2", "oauthbearer"] = "xoauth2"
    tenant: str | None = None  # microsoft: the directory (tenant) ID or its domain
    client_id: str | None = None  # microsoft, generic: the application (client) ID
    client_secret_env: str | None = "BFS_OAUTH_CLIENT_SECRET"  # noqa: S105 - the variable name, not a secret
    client_secret_file: Path | None = None
    certificate_file: Path | None = None  # microsoft: PEM with the private key and its certificate, not a secret
    service_account_file: Path | None = None  # google: the service account's JSON key
    token_url: str | None = None  # generic: the token endpoint
    scope: str | None = None  # default: the provider's IMAP scope (none for generic)
    authority_host: str = "https://login.microsoftonline.com"  # microsoft: a national cloud's login host
    refresh_margin_seconds: float = Field(default=300.0, ge=0)  # a token is renewed this long before it expires

    def client_secret(self) -> str | None:
        if self.client_secret_file is not None:
            return self.client_secret_file.read_text(encoding="utf-8").strip()
        if self.client_secret_env:
            return os.environ.get(self.client_secret_env) or None
        return None


class MailChannelSettings(Section):
    # A section that names its mailbox (host or maildir) is read unless it says enabled = false: a
    # configured mailbox that is silently skipped looks exactly like one that received nothing.
    enabled: bool = False
    host: str | None = None
    port: int = 993
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str | None = None
    auth: Literal["password", "oauth2"] = "password"  # oauth2: a token from [channels.bfs_email.oauth2]
    password_env: str | None = "BFS_IMAP_PASSWORD"  # noqa: S105 - the variable name, not a secret
    password_file: Path | None = None
    folder: str = "INBOX"
    action: Literal["flag", "move", "none"] = "flag"
    flag: str = "$DetainerIntake"
    move_to: str = "Processed"
    max_attempts: int = 3  # a failing message is retried on this many runs, then quarantined
    max_attachment_bytes: int = 25 * 1024 * 1024
    # Only messages the server received in the last this many days are fetched (IMAP SEARCH SINCE); 0 = all.
    # A first run on a mailbox with years of mail; older messages are never read while it is set.
    max_age_days: int = Field(default=0, ge=0)
    timeout_seconds: float = 60.0
    # A local Maildir read instead of IMAP (mail exports, and the bundled sample mailbox).
    maildir: Path | None = None
    oauth2: OAuth2Settings = Field(default_factory=OAuth2Settings)

    @model_validator(mode="before")
    @classmethod
    def _enabled_when_named(cls, data: Any) -> Any:
        if isinstance(data, dict) and "enabled" not in data and (data.get("host") or data.get("maildir")):
            return {**data, "enabled": True}
        return data

    def password(self) -> str | None:
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        if self.password_env:
            return os.environ.get(self.password_env)
        return None


class ChannelsSettings(Section):
    dedicated_fax: FolderChannelSettings = Field(default_factory=FolderChannelSettings)
    station_fax: StationChannelSettings = Field(default_factory=StationChannelSettings)
    bfs_email: MailChannelSettings = Field(default_factory=MailChannelSettings)


class ParsingSettings(Section):
    # Pages a thread-runner run reads at once, one single-threaded Tesseract each; 0 = one per core.
    # A parse on a Dask worker (a daemonic process) reads in the worker: its threads are the bound.
    workers: int = 0
    max_input_bytes: int = 50 * 1024 * 1024
    max_pages: int = 300
    max_pixels: int = 60_000_000  # per page, after rendering; bounds decompression bombs
    ocr_timeout_seconds: float = 120.0
    render_timeout_seconds: float = 120.0  # poppler (pdftotext, pdftoppm), per PDF page
    # A document whose reading fails unexpectedly (a parser error, not a bad input) is tried again
    # by the next runs; after this many failures it is quarantined (reason "parse_failed") so it
    # can neither block its arrival forever nor go uncounted.
    max_parse_attempts: int = Field(default=3, ge=1)
    # Address space of each Tesseract and poppler process reading a page (RLIMIT_AS); a page that
    # needs more is quarantined (reason "memory_limit"). 512 MB is ~4x what Tesseract needs on a
    # 300-dpi letter page (132 MB); pdftoppm needs 42-74 MB at 300 dpi.
    max_subprocess_memory_mb: int = Field(default=512, ge=16)
    tesseract_lang: str = "eng"
    # The names ICE addresses this department by (the I-247's TO box): a garbled reading that
    # clearly resembles one of them is corrected to it. Empty: readings are kept as read.
    institutions: list[str] = Field(default_factory=list)


class DedupeSettings(Section):
    issued_window_days: int = 3  # fuzzy matches need issued dates at most this far apart
    name_similarity: float = 90.0  # rapidfuzz score (0-100) for OCR-tolerant name matches
    review_below: float = 95.0  # fuzzy matches scoring below this go to the review queue
    # Identifiers OCR read with less confidence than this can support a match but not veto one.
    trusted_confidence: float = 0.8
    # Copies of one request arrive within days of each other: copies whose arrivals are further
    # apart than this are never merged automatically (only offered for review).
    max_arrival_gap_days: int = Field(default=21, ge=0)


class FlowSettings(Section):
    task_runner: Literal["thread", "dask"] = "thread"
    dask_address: str | None = None  # tcp://scheduler:8786; None = a LocalCluster
    dask_workers: int = 2
    schedule_cron: str = "0 6 * * *"
    schedule_timezone: str = "America/New_York"
    # A daily or backfill run that takes longer ends TimedOut (a Failed state, so alerts fire);
    # generous: a first backfill of a year of scans can take hours.
    timeout_minutes: float = Field(default=480, gt=0)
    # A run that finds the run lock held (a backfill and the daily run at once) waits this long for
    # it before ending Failed (exit 7); 0 = refuse at once.
    lock_wait_minutes: float = Field(default=240, ge=0)
    # An arrival whose commit fails unexpectedly (a fault, not a bad input) is tried again by the
    # next runs; the failure of this many runs records it quarantined instead (reason
    # "commit_failed"), so one file can neither loop forever nor go uncounted.
    max_commit_attempts: int = Field(default=3, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DETAINER_INTAKE_", env_nested_delimiter="__", extra="forbid")

    department: DepartmentSettings = Field(default_factory=DepartmentSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    channels: ChannelsSettings = Field(default_factory=ChannelsSettings)
    parsing: ParsingSettings = Field(default_factory=ParsingSettings)
    dedupe: DedupeSettings = Field(default_factory=DedupeSettings)
    flows: FlowSettings = Field(default_factory=FlowSettings)
    config_path: Path | None = None  # where this was loaded from (set by load_settings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the file, which arrives as init kwargs.
        return (env_settings, init_settings)

    @property
    def ledger_url(self) -> str:
        """The ledger URL with a relative SQLite path anchored at the config file's folder."""
        url = self.ledger.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
            return prefix + str(self._resolve(Path(url[len(prefix) :])))
        return url

    def resolve_paths(self) -> Settings:
        self.archive.path = self._resolve(self.archive.path)
        if self.archive.extraction_cache is not None:
            self.archive.extraction_cache = self._resolve(self.archive.extraction_cache)
        for channel in (self.channels.dedicated_fax, self.channels.station_fax):
            if channel.path is not None:
                channel.path = self._resolve(channel.path)
        mail = self.channels.bfs_email
        if mail.maildir is not None:
            mail.maildir = self._resolve(mail.maildir)
        if mail.password_file is not None:
            mail.password_file = self._resolve(mail.password_file)
        oauth = mail.oauth2
        for key in ("client_secret_file", "certificate_file", "service_account_file"):
            value = getattr(oauth, key)
            if value is not None:
                setattr(oauth, key, self._resolve(value))
        return self

    def _resolve(self, path: Path) -> Path:
        path = path.expanduser()
        if path.is_absolute():
            return path
        base = self.config_path.parent if self.config_path else Path.cwd()
        return (base / path).resolve()


def config_file(explicit: Path | None = None) -> Path:
    """``--config`` (or a flow's ``config_path``), else ``$DETAINER_INTAKE_CONFIG``; never a silent default."""
    if explicit is not None:
        return explicit
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    raise ConfigError(
        f"no configuration given: pass --config FILE or set {CONFIG_ENV} (a deployed flow: its config_path)",
        remedy="Write one with `detainer-intake config init /etc/detainer-intake/config.toml`, edit it, then pass "
        f"--config or set {CONFIG_ENV}; `detainer-intake doctor` checks it. `bin/run-sample` runs the bundled sample.",
    )


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Load and validate the configuration; raise ConfigError with a readable message."""
    file = config_file(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {file}") from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read configuration {file}: {exc}") from exc
    data.update(overrides)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration {file}:\n{_problems(exc)}") from None
    settings.config_path = file.resolve()
    return settings.resolve_paths()


def _problems(exc: ValidationError) -> str:
    """Which keys are wrong and why, without the values (a misplaced password must not be echoed)."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)
