"""One typed settings object: defaults, then `cartwheel.yaml`, then `CARTWHEEL_*` variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from cartwheel.engines import ENGINES

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


class Settings(BaseSettings):
    """Everything a run can be told. Nested keys in the environment use `__`."""

    model_config = SettingsConfigDict(
        env_prefix="CARTWHEEL_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(Path("data"), description="Folder for everything a run writes.")
    engine: str = Field("duckdb", description="One of the registered engines (cartwheel.engines).")
    database_url: SecretStr | None = Field(
        None, description="postgresql://user@host:port/db; the password may come from PGPASSWORD."
    )
    scale: float = Field(1.0, gt=0, description="Generator scale factor (1 = classic size).")
    seed: int = Field(42, description="Generator seed; same seed, same bytes.")
    input_dir: Path | None = Field(None, description="Build from these raw files instead.")
    raw_format: Literal["csv", "parquet"] = "csv"
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

    @field_validator("engine")
    @classmethod
    def _registered_engine(cls, value: str) -> str:
        if value not in ENGINES:
            raise ValueError(f"unknown engine {value!r}: one of {', '.join(ENGINES)}")
        return value

    @model_validator(mode="after")
    def _engine_has_its_url(self) -> Settings:
        if ENGINES[self.engine].needs_database_url and self.database_url is None:
            raise ValueError(
                f"engine {self.engine!r} needs --database-url postgresql://user@host:port/db "
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


def load_settings(**overrides: object) -> Settings:
    """Settings with command-line values (those not None) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
