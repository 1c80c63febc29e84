"""Settings: defaults, then cartwheel.yaml, then CARTWHEEL_* variables, then the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartwheel.config import ConfigError, load_settings
from cartwheel.sqltext import check_identifier


def test_yaml_then_environment_then_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "cartwheel.yaml"
    config.write_text("data_dir: /srv/shop\nscale: 3\nseed: 9\n")
    monkeypatch.setenv("CARTWHEEL_CONFIG", str(config))
    assert (load_settings().scale, load_settings().seed) == (3, 9)
    monkeypatch.setenv("CARTWHEEL_SEED", "11")
    settings = load_settings()
    assert (settings.data_dir, settings.scale, settings.seed) == (Path("/srv/shop"), 3, 11)
    assert load_settings(seed=5, scale=None).seed == 5


def test_database_url_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTWHEEL_DATABASE_URL", "postgresql://shop:hunter2@localhost/shop")
    settings = load_settings()
    assert "hunter2" not in repr(settings)
    assert "hunter2" in settings.database_url.get_secret_value()


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTWHEEL_SCALE", "-1")
    with pytest.raises(ValueError):
        load_settings()


@pytest.mark.parametrize("name", ["staging.x; drop table y", "Robert'); --", "a.b.c d"])
def test_identifiers_from_outside_are_checked(name: str) -> None:
    with pytest.raises(ValueError):
        check_identifier(name)


def test_a_section_takes_the_yaml_its_json_variable_and_its_key_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cartwheel.yaml"
    config.write_text("monitor:\n  max_run_age_hours: 3\n  volume_sigmas: 5\n")
    monkeypatch.setenv("CARTWHEEL_CONFIG", str(config))
    monkeypatch.setenv("CARTWHEEL_MONITOR", '{"volume_sigmas": 2, "volume_window_days": 9}')
    monkeypatch.setenv("cartwheel_monitor__volume_window_days", "10")  # any case
    monitor = load_settings().monitor
    assert (monitor.max_run_age_hours, monitor.volume_sigmas, monitor.volume_window_days) == (
        3,
        2,
        10,
    )


def test_variables_that_name_no_setting_are_not_read_but_a_wrong_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWHEEL_CONFIG", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv("CARTWHEEL_FAILPOINT", "ingest")
    monkeypatch.setenv("CARTWHEEL_ALERTS__SMTP_RECIPIENTS", "siobhan@example.ie, jose@example.es")
    monkeypatch.setenv("CARTWHEEL_SPARK__CONF", '{"spark.executor.memory": "2g"}')
    settings = load_settings()
    assert settings.alerts.smtp_recipients == ["siobhan@example.ie", "jose@example.es"]
    assert settings.spark.conf == {"spark.executor.memory": "2g"}
    monkeypatch.setenv("CARTWHEEL_ALERTS__SMTP_PROT", "25")
    with pytest.raises(ConfigError, match=r"^alerts\.smtp_prot: not a setting"):
        load_settings()


def test_a_variable_that_is_not_json_is_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no cartwheel.yaml here
    monkeypatch.setenv("CARTWHEEL_QUALITY_THRESHOLDS", "CMP01=2")
    with pytest.raises(ConfigError, match=r"^CARTWHEEL_QUALITY_THRESHOLDS: not valid JSON"):
        load_settings()
