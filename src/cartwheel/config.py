"""One typed settings object: defaults, then `cartwheel.yaml`, then `CARTWHEEL_*` variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

CONFIG_FILE_ENV = "CARTWHEEL_CONFIG"
DEFAULT_CONFIG_FILE = "cartwheel.yaml"


def config_file() -> Path:
    """The YAML file to read: `$CARTWHEEL_CONFIG` or `./cartwheel.yaml`."""
    return Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))


class Settings(BaseSettings):
    """Everything a run can be told. Nested keys in the environment use `__`."""

    model_config = SettingsConfigDict(
        env_prefix="CARTWHEEL_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(Path("data"), description="Folder for everything a run writes.")
    engine: Literal["duckdb", "postgres", "spark"] = "duckdb"
    database_url: SecretStr | None = Field(
        None, description="postgresql://user@host:port/db; the password may come from PGPASSWORD."
    )
    scale: float = Field(1.0, gt=0, description="Generator scale factor (1 = classic size).")
    seed: int = Field(42, description="Generator seed; same seed, same bytes.")
    input_dir: Path | None = Field(None, description="Build from these raw files instead.")
    raw_format: Literal["csv", "parquet"] = "csv"
    quality_min_score: float = Field(0.0, ge=0, le=100, description="Quality gate.")

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


def load_settings(**overrides: object) -> Settings:
    """Settings with command-line values (those not None) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
