"""One typed settings object: defaults, then `cartwheel.yaml`, then `CARTWHEEL_*` variables."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

CONFIG_FILE_ENV = "CARTWHEEL_CONFIG"
DEFAULT_CONFIG_FILE = "cartwheel.yaml"


def config_file() -> Path:
    """The YAML file to read: `$CARTWHEEL_CONFIG` or `./cartwheel.yaml`."""
    return Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))


class MonitorSettings(BaseModel):
    """Thresholds of `cartwheel monitor` (SPEC §7)."""

    max_run_age_hours: float = Field(25.0, gt=0, description="Last successful run within.")
    max_freshness_lag_hours: float = Field(24.0, gt=0, description="Newest load within.")
    volume_window_days: int = Field(30, ge=2, description="Days of data before each day.")
    volume_sigmas: float = Field(3.0, gt=0, description="Anomaly outside mean ± this × σ.")
    min_quality_score: float = Field(95.0, ge=0, le=100, description="Quality score at least.")
    max_response_ms: float = Field(1000.0, gt=0, description="Database answers within.")


class AlertSettings(BaseModel):
    """Where alerts go (a failed run, a stopped quality gate, a change of monitor health).

    The SMTP password is read from `CARTWHEEL_ALERTS__SMTP_PASSWORD` only, never from a file.
    """

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
    smtp_recipients: Annotated[list[str], NoDecode] = Field(
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
        if value is not None and urlsplit(value.get_secret_value()).scheme not in (
            "http",
            "https",
        ):
            raise ValueError("alerts.webhook_url must be an http:// or https:// URL")
        return value


class SparkSettings(BaseModel):
    """How `--engine spark` reaches Spark (the extra: pip install 'cartwheel[spark]')."""

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


class Settings(BaseSettings):
    """Everything a run can be told. Nested keys in the environment use `__`."""

    model_config = SettingsConfigDict(
        env_prefix="CARTWHEEL_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(Path("data"), description="Folder for everything a run writes.")
    engine: Literal["duckdb", "postgres", "spark"] = Field(
        "duckdb",
        description="Where the warehouse is built: a DuckDB file in the data folder, a "
        "PostgreSQL database (needs database_url), or Spark (see spark).",
    )
    database_url: SecretStr | None = Field(
        None, description="postgresql://user@host:port/db; the password may come from PGPASSWORD."
    )
    scale: float = Field(1.0, gt=0, description="Generator scale factor (1 = classic size).")
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
    # Operations (SPEC §7): retries, lock, schedule, retention, monitoring.
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
    alerts: AlertSettings = Field(default_factory=lambda: AlertSettings())
    spark: SparkSettings = Field(default_factory=lambda: SparkSettings())

    @model_validator(mode="after")
    def _postgres_needs_url(self) -> Settings:
        if self.engine == "postgres" and self.database_url is None:
            raise ValueError(
                "engine 'postgres' needs --database-url postgresql://user@host:port/db "
                "(or CARTWHEEL_DATABASE_URL; the password may come from PGPASSWORD)"
            )
        return self

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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=config_file())
        return (init_settings, env_settings, yaml_source)

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def analytics_dir(self) -> Path:
        return self.data_dir / "analytics"

    @property
    def duckdb_path(self) -> Path:
        # Named after the product, not a schema: `warehouse.duckdb` would make
        # `warehouse.fact_sales` ambiguous for everyone who opens the file.
        return self.data_dir / "cartwheel.duckdb"

    @property
    def warehouse_location(self) -> str:
        """Where the warehouse lives, safe to print: a PostgreSQL URL loses its password."""
        if self.engine == "spark":
            return self.spark.warehouse or str(self.data_dir / "spark-warehouse")
        if self.engine != "postgres" or self.database_url is None:
            return str(self.duckdb_path)
        url = urlsplit(self.database_url.get_secret_value())
        netloc = url.netloc.rpartition("@")[2]
        user = f"{url.username}@" if url.username else ""
        return f"{url.scheme}://{user}{netloc}{url.path}"


def load_settings(**overrides: object) -> Settings:
    """Settings with command-line values (those not None) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
