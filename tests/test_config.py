"""Settings: defaults, then cartwheel.yaml, then CARTWHEEL_* variables, then the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartwheel.config import load_settings
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
