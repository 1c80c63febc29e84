"""docs/configuration.md lists every setting of the settings model, and its examples hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from cartwheel.config import Settings
from tests.config_docs import DOCS, leaf_settings, render

REGENERATE = "run `.venv/bin/python -m tests.config_docs`"


def test_configuration_reference_matches_the_settings_model() -> None:
    assert DOCS.read_text() == render(), f"docs/configuration.md is out of date: {REGENERATE}"


def undescribed(model: type[BaseModel]) -> list[str]:
    return [".".join(path) for path, field in leaf_settings(model) if not field.description]


def test_every_setting_says_what_it_means() -> None:
    assert undescribed(Settings) == [], "give these settings a Field(description=...)"


def test_a_setting_without_a_description_is_caught() -> None:
    class Section(BaseModel):
        described: int = Field(1, description="Has one.")
        bare: int = 2

    class Model(BaseModel):
        section: Section = Section()
        top: str = "x"

    assert undescribed(Model) == ["section.bare", "top"]


def test_every_setting_has_a_row() -> None:
    table = [line for line in DOCS.read_text().splitlines() if line.startswith("| `")]
    keys = [line.split("`")[1] for line in table]
    assert keys == [".".join(path) for path, _ in leaf_settings(Settings)]
    assert "monitor.max_run_age_hours" in keys and "monitor" not in keys


def test_the_documented_yaml_and_variables_mean_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = DOCS.read_text()
    yaml_example = text.split("```yaml\n")[1].split("```")[0]
    shell_example = text.split("```bash\n")[1].split("```")[0]
    config = tmp_path / "cartwheel.yaml"
    config.write_text(yaml_example)
    monkeypatch.setenv("CARTWHEEL_CONFIG", str(config))
    from_yaml = Settings()

    monkeypatch.setenv("CARTWHEEL_CONFIG", str(tmp_path / "absent.yaml"))
    for line in shell_example.splitlines():
        name, value = line.removeprefix("export ").split("=", 1)
        monkeypatch.setenv(name, value.strip("'"))
    from_env = Settings()

    assert from_env == from_yaml
    assert from_env.engine == "postgres"
    assert from_env.schedule_cron == "30 3 * * *"
    assert from_env.monitor.max_run_age_hours == 49
    assert from_env.database_url.get_secret_value() == "postgresql://cartwheel@db:5432/shop"


def test_a_mapping_from_its_variable_as_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("CARTWHEEL_CONFIG", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv("CARTWHEEL_QUALITY_THRESHOLDS", '{"CMP01": {"warn": 2, "error": 10}}')
    assert Settings().quality_thresholds == {"CMP01": {"warn": 2.0, "error": 10.0}}
