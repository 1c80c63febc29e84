"""One typed settings object: defaults, then `cartwheel.yaml`, then `CARTWHEEL_*` variables."""

from __future__ import annotations

import json
import os
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from cartwheel.engines import ENGINES, location
from cartwheel.vocabulary import VocabularySettings

#: Exactly the registered engines.
EngineName = Literal[tuple(ENGINES)]

CONFIG_FILE_ENV = "CARTWHEEL_CONFIG"
DEFAULT_CONFIG_FILE = "cartwheel.yaml"
#: CARTWHEEL_SEED sets `seed`; CARTWHEEL_ALERTS__SMTP_PORT sets `smtp_port` of `alerts`.
ENV_PREFIX = "CARTWHEEL_"
ENV_NESTED_DELIMITER = "__"


def config_file() -> Path:
    """The YAML file to read: `$CARTWHEEL_CONFIG` or `./cartwheel.yaml`."""
    return Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))


class TextFromEnvironment:
    """Marks a list setting whose variable is text for the setting's own validator
    (comma-separated values), not JSON like the other lists, mappings and sections."""


class MonitorSettings(BaseModel):
    """Thresholds of `cartwheel monitor`."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error

    max_run_age_hours: float = Field(25.0, gt=0, description="Last successful run within.")
    max_freshness_lag_hours: float = Field(24.0, gt=0, description="Newest load within.")
    volume_window_days: int = Field(30, ge=2, description="Days of data before each day.")
    volume_sigmas: float = Field(3.0, gt=0, description="Anomaly outside mean ± this × σ.")
    min_quality_score: float = Field(95.0, ge=0, le=100, description="Quality score at least.")
    max_response_ms: float = Field(1000.0, gt=0, description="Database answers within.")


def require_http(url: str | None, key: str) -> None:
    """Endpoints are http(s) URLs: no file:// or other scheme reaches urllib."""
    if url is not None and urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{key} must be an http:// or https:// URL")


class AlertSettings(BaseModel):
    """Where alerts go (a failed run, a stopped quality gate, a change of monitor health).

    The SMTP password is read from `CARTWHEEL_ALERTS__SMTP_PASSWORD` only, never from a file.
    """

    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error

    webhook_url: SecretStr | None = Field(
        None, description="Slack or Teams incoming-webhook URL (a secret: never logged)."
    )
    webhook_format: Literal["slack", "teams"] = Field(
        "slack", description="slack: text + blocks; teams: an Adaptive Card message."
    )
    smtp_host: str | None = Field(None, description="Mail server; unset = no e-mail.")
    smtp_port: int = Field(587, gt=0, lt=65536, description="Mail server port (587: submission).")
    smtp_starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    smtp_username: str | None = Field(None, description="Log in as (with the password).")
    smtp_sender: str = Field("cartwheel@localhost", description="The From address.")
    smtp_recipients: Annotated[list[str], TextFromEnvironment()] = Field(
        default_factory=list, description="The To addresses (a list, or comma-separated)."
    )
    timeout_seconds: float = Field(5.0, gt=0, description="Per delivery attempt.")
    attempts: int = Field(3, ge=1, le=10, description="Tries per channel before giving up.")

    @field_validator("smtp_recipients", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str) and value.lstrip().startswith("["):
            return json.loads(value)
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr | None) -> SecretStr | None:
        require_http(value and value.get_secret_value(), "alerts.webhook_url")
        return value


class LineageSettings(BaseModel):
    """Where each run's OpenLineage events go: a JSON-lines file in the data folder, or
    an HTTP endpoint (Marquez or any OpenLineage consumer)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error

    enabled: bool = Field(True, description="Emit OpenLineage events for each run and step.")
    url: str | None = Field(
        None,
        description="POST events here (e.g. http://localhost:5000/api/v1/lineage); "
        "unset = append them to openlineage.jsonl in the data folder.",
    )
    api_key: SecretStr | None = Field(
        None, description="Bearer token for the endpoint (a secret: never logged)."
    )
    namespace: str = Field("cartwheel", min_length=1, description="The jobs' namespace.")
    timeout_seconds: float = Field(5.0, gt=0, description="Per HTTP attempt.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        require_http(value, "lineage.url")
        return value


class SparkSettings(BaseModel):
    """How `--engine spark` reaches Spark (the extra: pip install 'cartwheel[spark]')."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error

    master: str = Field(
        "local[*]", description="local[*] (all cores of this machine), spark://host:7077, yarn."
    )
    remote: str | None = Field(
        None, description="A Spark Connect URL (sc://host:15002); replaces master."
    )
    driver_memory: str = Field(
        "4g", description="Driver JVM heap in local mode (1g runs out on wide writes)."
    )
    shuffle_partitions: int = Field(
        8, ge=1, description="spark.sql.shuffle.partitions: small for small data."
    )
    warehouse: str | None = Field(
        None,
        description="Where table versions are written (a folder or a URI the cluster "
        "reads); default: spark-warehouse/ in the data folder.",
    )
    conf: dict[str, str] = Field(
        default_factory=dict, description="Any other Spark settings, e.g. spark.executor.memory."
    )


class Settings(BaseModel):
    """Everything a run can be told: the defaults, then the YAML file (`config_file()`),
    then CARTWHEEL_* variables (nested keys use `__`), then the values given."""

    # A misspelt key in cartwheel.yaml is an error; CARTWHEEL_* variables that are no
    # setting (CARTWHEEL_CONFIG) are not read as settings at all. Defaults are validated
    # too (a `data` file where the data folder would go is refused).
    model_config = ConfigDict(extra="forbid", validate_default=True)

    def __init__(self, **values: Any) -> None:
        given = _merged(file_values(), environment_values(type(self), os.environ))
        super().__init__(**_merged(given, values))

    data_dir: Path = Field(Path("data"), description="Folder for everything a run writes.")
    engine: EngineName = Field(
        "duckdb",
        description="Where the warehouse is built: a DuckDB file in the data folder, a "
        "PostgreSQL database (needs database_url), or Spark (see spark).",
    )
    database_url: SecretStr | None = Field(
        None, description="postgresql://user@host:port/db; the password may come from PGPASSWORD."
    )
    duckdb_memory_limit: str = Field(
        "auto",
        pattern=r"^(auto|[0-9]+(\.[0-9]+)?\s*[KMGT]i?B)$",
        description="DuckDB memory_limit: auto (a fifth of this machine's memory, or of its "
        "container's limit if lower) or a size such as 4GB; beyond it joins, sorts and "
        "windows spill to duckdb_temp_directory.",
    )
    duckdb_temp_directory: Path | None = Field(
        None,
        description="Where DuckDB spills what does not fit in its memory limit (default: "
        "beside the database file, <file>.tmp).",
    )
    duckdb_segment_rows: int = Field(
        50_000,
        ge=1,
        description="DuckDB: tables with at least this many rows are published as Parquet "
        "segments behind views (a run writes only their new or changed rows); smaller ones "
        "are copied into the published file.",
    )
    scale: float = Field(
        1.0, gt=0, le=100_000, description="Generator scale factor (1 = classic size)."
    )
    seed: int = Field(42, description="Generator seed; same seed, same bytes.")
    input_dir: Path | None = Field(None, description="Build from these raw files instead.")
    raw_format: Literal["csv", "parquet"] = Field(
        "csv", description="File format the generator writes."
    )
    generator: dict[str, Any] = Field(
        default_factory=dict,
        description="Generator profile overrides (see cartwheel.generate.profile.Profile).",
    )
    defect_rate: float = Field(0.0, ge=0, le=1, description="Share of generated rows made bad.")
    quality_min_score: float = Field(
        60.0, ge=0, le=100, description="Quality gate: a lower score stops the run."
    )
    quality_thresholds: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Per check id (quality/checks.yaml), `warn` and/or `error` in % of rows.",
    )
    forecast_days: int = Field(
        90, ge=0, le=730, description="Days ahead in forecast_revenue.csv; 0 = no forecast."
    )
    batch_grouping: bool = Field(
        True,
        description="Over several pending daily batches, the warehouse loads consecutive "
        "ones in one pass (the same tables as one pass per batch, in a fraction of the "
        "time); false: one warehouse pass per batch.",
    )
    # Operations: retries, lock, schedule, retention, monitoring.
    retry_attempts: int = Field(3, ge=0, le=20, description="Retries after a transient failure.")
    retry_backoff_seconds: float = Field(
        1.0, ge=0, description="Wait before the first retry; doubles each time (1, 2, 4 s)."
    )
    retry_backoff_max_seconds: float = Field(60.0, ge=0, description="Longest wait.")
    lock_wait_seconds: float | None = Field(
        None, ge=0, description="With --wait: give up after this long (default: wait on)."
    )
    schedule_cron: str = Field("0 2 * * *", description="When `cartwheel schedule` runs.")
    schedule_timezone: str = Field("UTC", description="IANA time zone of schedule_cron.")
    retention_days: int = Field(7, ge=0, description="Keep raw files and logs this long.")
    monitor: MonitorSettings = Field(default_factory=lambda: MonitorSettings())
    vocabulary: VocabularySettings = Field(
        default_factory=lambda: VocabularySettings(),
        description="Canonical spellings of known values and band thresholds.",
    )
    alerts: AlertSettings = Field(default_factory=lambda: AlertSettings())
    lineage: LineageSettings = Field(default_factory=lambda: LineageSettings())
    spark: SparkSettings = Field(default_factory=lambda: SparkSettings())

    @model_validator(mode="after")
    def _engine_has_its_url(self) -> Settings:
        if ENGINES[self.engine].needs_database_url and self.database_url is None:
            raise ValueError(
                f"engine {self.engine!r} needs --database-url postgresql://user@host:port/db "
                "(or CARTWHEEL_DATABASE_URL; the password may come from PGPASSWORD)"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _known_dsn_form(cls, value: SecretStr | None) -> SecretStr | None:
        dsn = "" if value is None else value.get_secret_value()
        if value is not None and not dsn.startswith(_URL_SCHEMES) and "=" not in dsn:
            raise ValueError(
                f"{safe_dsn(dsn)!r} is neither postgresql://user@host:port/db "
                "nor host=... dbname=... (keyword form)"
            )
        return value

    @field_validator("data_dir")
    @classmethod
    def _usable_data_dir(cls, value: Path) -> Path:
        if value.is_symlink() and not value.exists():
            raise ValueError(f"data dir {value} is a symbolic link to nothing")
        if value.exists() and not value.is_dir():
            raise ValueError(f"data dir {value} is a file, not a folder")
        ancestor = next((p for p in value.parents if p.exists()), None)
        if ancestor is not None and not ancestor.is_dir():
            raise ValueError(f"data dir {value} cannot be created: {ancestor} is not a folder")
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("schedule_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from datetime import datetime

        from cronsim import CronSim, CronSimError

        try:
            CronSim(value, datetime(2000, 1, 1))
        except CronSimError as error:
            raise ValueError(f"bad cron expression {value!r}: {error}") from error
        return value

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def analytics_dir(self) -> Path:
        return self.data_dir / "analytics"

    @property
    def warehouse_location(self) -> str:
        """Where the warehouse lives, safe to print: a PostgreSQL URL loses its password."""
        return location(self)


def file_values() -> dict[str, Any]:
    """The settings in the YAML file (none when there is no such file)."""
    path = config_file()
    if not path.is_file():
        return {}
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(values, dict):
        raise TypeError(f"a {type(values).__name__} at the top")
    return values


def environment_values(model: type[BaseModel], environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings of `model` that CARTWHEEL_* variables set (names in any case), nested
    at each `__`. A section, mapping or list is JSON (`CARTWHEEL_QUALITY_THRESHOLDS`), and
    the keys under it deepen it (`CARTWHEEL_MONITOR__VOLUME_SIGMAS`); a variable that
    names no setting is not read. A key unknown inside a section is kept, so that the
    section refuses it by name."""
    prefix = ENV_PREFIX.lower()
    named = sorted(  # a whole section's JSON first, then the keys that deepen it
        (name.lower()[len(prefix) :].split(ENV_NESTED_DELIMITER), name, text)
        for name, text in environ.items()
        if name.lower().startswith(prefix)
    )
    values: dict[str, Any] = {}
    for path, name, text in sorted(named, key=lambda entry: len(entry[0])):
        field = model.model_fields.get(path[0])
        if field is None or (len(path) > 1 and not _read_as_json(field)):
            continue
        target: FieldInfo | None = field
        for key in path[1:]:
            target = _inner(target, key) if target is not None else None
        value: Any = text
        if target is not None and _read_as_json(target):
            try:
                value = json.loads(text)
            except ValueError as error:
                raise ConfigError(f"{name}: not valid JSON ({error})") from None
        for key in reversed(path[1:]):
            value = {key: value}
        values = _merged(values, {path[0]: value})
    return values


def _inner(field: FieldInfo, key: str) -> FieldInfo | None:
    """The setting at `key` inside a section, or a mapping's value at any key (as a
    field); None inside anything else or for a key the section does not have."""
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.model_fields.get(key)
    if get_origin(annotation) is dict and len(get_args(annotation)) == 2:
        return FieldInfo.from_annotation(get_args(annotation)[1])
    return None


def _read_as_json(field: FieldInfo) -> bool:
    """Whether a setting's variable holds JSON: a section, a mapping or a list."""
    if any(isinstance(marker, TextFromEnvironment) for marker in field.metadata):
        return False
    return _structured(field.annotation)


def _structured(annotation: object) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_structured(arg) for arg in get_args(annotation) if arg is not type(None))
    kind = get_origin(annotation) or annotation
    return isinstance(kind, type) and (
        issubclass(kind, BaseModel) or issubclass(kind, dict | list | tuple | set)
    )


def _merged(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `update`'s values over it, mappings merged key by key."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE)
_URL_SCHEMES = ("postgresql://", "postgres://")


def dsn_secrets(dsn: str) -> list[str]:
    """The passwords a connection string carries, in any form libpq accepts or a user may
    mistype: a URL (with or without its scheme, password in the authority or in
    `?password=`) and a keyword string (`host=db password=...`)."""
    found = [match.group(2).strip("'") for match in _KEYWORD_PASSWORD.finditer(dsn)]
    url = urlsplit(dsn if "://" in dsn else "//" + dsn)
    try:
        found.append(url.password or "")
    except ValueError:  # a malformed port: the password part is still there to hide
        found.append(url.netloc.rpartition("@")[0].partition(":")[2])
    found += [value for key, value in parse_qsl(url.query) if key.lower() == "password"]
    return [secret for secret in found if secret]


def redact(text: str, dsn: str) -> str:
    """`text` with every password of `dsn` replaced by `***` (longest first)."""
    for secret in sorted(dsn_secrets(dsn), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def safe_dsn(dsn: str) -> str:
    """A connection string fit to print: a URL without its password (in the authority or
    the query), a keyword string with `password=***`."""
    if not dsn.startswith(_URL_SCHEMES) and "=" in dsn and "@" not in dsn:
        return _KEYWORD_PASSWORD.sub(r"\1***", dsn)
    url = urlsplit(dsn if "://" in dsn else "//" + dsn)
    host = url.netloc.rpartition("@")[2]
    user = url.netloc.rpartition("@")[0].partition(":")[0]
    query = urlencode(
        [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(url.query)],
        safe="*",
    )
    scheme = f"{url.scheme}://" if url.scheme else ""
    return redact(
        f"{scheme}{user + '@' if user else ''}{host}{url.path}{'?' + query if query else ''}", dsn
    )


class ConfigError(ValueError):
    """The configuration cannot be used; the one-line message names the value and why."""


def _describe(error: ValidationError) -> str:
    """Pydantic's errors on one line: `key: problem (got 'value')`, secrets left out."""
    parts = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "configuration"
        if item["type"] == "value_error":  # our own validators name the value already
            parts.append(f"{key}: {item['ctx']['error']}")
            continue
        if item["type"] == "extra_forbidden":
            parts.append(f"{key}: not a setting (docs/configuration.md lists them)")
            continue
        secret = "database_url" in item["loc"]
        got = "" if secret or "input" not in item else f" (got {item['input']!r:.60})"
        parts.append(f"{key}: {item['msg']}{got}")
    return "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Settings with command-line values (those not None) taking precedence.

    Raises ConfigError (one line) for a bad value, an unreadable or malformed config file.
    """
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError:
        raise
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ConfigError(f"{config_file()}{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{config_file()}: cannot be read ({error})") from None
    except (TypeError, ValueError) as error:  # e.g. a YAML list where a mapping belongs
        raise ConfigError(f"{config_file()}: {_unusable_yaml(error)}") from None


def _unusable_yaml(error: Exception) -> str:
    """Why the config file's YAML, which parsed, gives no settings: a value YAML itself
    cannot build (the date 2024-02-30), or a document that is not a mapping."""
    try:
        yaml.safe_load(config_file().read_text(encoding="utf-8"))
    except ValueError as problem:
        return f"a value cannot be read ({problem})"
    return f"not a mapping of settings ({error})"
