"""Dockerfile and compose.yaml name only files, commands, services and settings that exist.

No container runs here (the tests have no container engine and no image registry); these
checks catch what breaks a deployment silently: a renamed setting, a missing COPY source,
a service that waits on nothing, a variable nobody documents.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer.main
import yaml

from cartwheel.cli import app
from cartwheel.config import Settings
from tests.config_docs import env_name, leaf_settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = (ROOT / "compose.yaml").read_text()
DEPLOY_DOC = (ROOT / "docs" / "deploy.md").read_text()
IGNORE = (ROOT / ".dockerignore").read_text().split()
SETTING_VARIABLES = {env_name(path) for path, _ in leaf_settings(Settings)}
COMMANDS = set(typer.main.get_command(app).commands)


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined."""
    logical = re.sub(r"\\\n", " ", dockerfile)
    found = []
    for line in logical.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, arguments = line.strip().partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def unknown_settings(text: str) -> set[str]:
    """CARTWHEEL_* names in `text` that are no setting (CARTWHEEL_CONFIG names the file)."""
    named = set(re.findall(r"\bCARTWHEEL_[A-Z0-9_]+", text))
    return named - SETTING_VARIABLES - {"CARTWHEEL_CONFIG"}


def copy_sources(dockerfile: str) -> list[str]:
    """The build-context paths the Dockerfile copies (not those from another stage)."""
    copies = [args for keyword, args in instructions(dockerfile) if keyword == "COPY"]
    return [
        source
        for args in copies
        if not args.startswith("--from")
        for source in shlex.split(args)[:-1]
    ]


def missing_copy_sources(dockerfile: str) -> list[str]:
    """Sources absent from the checkout or kept out of the build context by .dockerignore."""
    let_in = {line.removeprefix("!").rstrip("/") for line in IGNORE if line.startswith("!")}
    return [
        source
        for source in copy_sources(dockerfile)
        if not (ROOT / source).exists() or source not in let_in
    ]


def test_copy_sources_exist_and_dockerignore_lets_them_in() -> None:
    assert copy_sources(DOCKERFILE) == ["pyproject.toml", "README.md", "src"]
    assert missing_copy_sources(DOCKERFILE) == []


def test_image_is_slim_runs_as_a_user_and_starts_cartwheel() -> None:
    steps = instructions(DOCKERFILE)
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim") in steps
    assert [args for keyword, args in steps if keyword == "FROM"] == [
        "${PYTHON_IMAGE} AS build",
        "${PYTHON_IMAGE}",
    ]
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users == ["cartwheel"]
    assert steps[-2:] == [("ENTRYPOINT", '["cartwheel"]'), ("CMD", '["run"]')]
    assert "--no-deps" in DOCKERFILE and "[postgres,forecast]" in DOCKERFILE


def test_compose_services_volumes_and_health() -> None:
    compose = yaml.safe_load(COMPOSE)
    services = compose["services"]
    assert set(services) == {"postgres", "run", "schedule"}
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    declared = set(compose["volumes"])
    for name, service in services.items():
        named = {volume.split(":")[0] for volume in service.get("volumes", [])}
        assert named <= declared, name
    assert declared == {"postgres-data", "cartwheel-data"}
    for name in ("run", "schedule"):
        service = services[name]
        assert service["build"] == "." and service["image"] == "cartwheel:latest"
        assert service["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        assert service["command"][0] in COMMANDS
        assert service["volumes"] == ["cartwheel-data:/data"]
    assert services["schedule"]["command"] == ["schedule"]
    assert services["run"]["command"] == ["run"]


def test_cartwheel_services_reach_the_database_service() -> None:
    compose = yaml.safe_load(COMPOSE)
    environment = compose["services"]["schedule"]["environment"]
    assert environment["CARTWHEEL_ENGINE"] == "postgres"
    url = environment["CARTWHEEL_DATABASE_URL"]
    database = compose["services"]["postgres"]["environment"]
    assert (
        url == f"postgresql://{database['POSTGRES_USER']}@postgres:5432/{database['POSTGRES_DB']}"
    )
    assert environment["PGPASSWORD"] == database["POSTGRES_PASSWORD"]
    Settings(**{"engine": "postgres", "database_url": url})  # a URL the settings accept


def test_every_variable_named_is_a_setting_or_documented() -> None:
    for text in (DOCKERFILE, COMPOSE, DEPLOY_DOC):
        assert unknown_settings(text) == set()
    substituted = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE))
    assert substituted == {
        "POSTGRES_PASSWORD",
        "CARTWHEEL_SCALE",
        "CARTWHEEL_SCHEDULE_CRON",
        "CARTWHEEL_SCHEDULE_TIMEZONE",
    }
    for variable in substituted:
        assert f"`{variable}`" in DEPLOY_DOC, f"docs/deploy.md does not explain {variable}"


def test_a_misspelt_setting_is_caught() -> None:
    broken = COMPOSE.replace("CARTWHEEL_SCHEDULE_CRON:", "CARTWHEEL_SCHEDULE_CRONTAB:")
    assert unknown_settings(broken) == {"CARTWHEEL_SCHEDULE_CRONTAB"}


def test_a_missing_copy_source_is_caught() -> None:
    renamed = DOCKERFILE.replace("COPY src ./src", "COPY source ./src")
    assert missing_copy_sources(renamed) == ["source"]
    unlisted = DOCKERFILE.replace("COPY src ./src", "COPY src tests ./")
    assert missing_copy_sources(unlisted) == ["tests"]
