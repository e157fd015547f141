"""docker-compose.yml is valid Compose and runs only `grader` commands (with options) that the CLI really has."""

import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer
import yaml

from grader.cli import app
from tests.conftest import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
SCHEMA = REPO_ROOT.parent / "shared" / "schemas" / "compose-spec.json"
REQUIRED_SERVICES = {"postgres", "redis", "migrate", "api", "worker", "beat", "flower"}


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def commands(document: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Every argv a service runs: its command, its entrypoint, and its health check."""
    found = []
    for name, service in document["services"].items():
        for key in ("entrypoint", "command"):
            value = service.get(key)
            if value:
                found.append((name, shlex.split(value) if isinstance(value, str) else list(value)))
        test = service.get("healthcheck", {}).get("test")
        if isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"):
            argv = test[1:] if test[0] == "CMD" else shlex.split(test[1])
            found.append((name, argv))
    return found


def check_grader_argv(argv: list[str]) -> None:
    """Walk the Typer app's command tree, then let the command parse its options: an unknown one fails."""
    command: Any = typer.main.get_command(app)
    args = argv[1:]
    while isinstance(getattr(command, "commands", None), dict):
        assert args and args[0] in command.commands, f"`{' '.join(argv)}`: no command {args[:1]} in the CLI"
        command, args = command.commands[args[0]], args[1:]
    command.make_context(argv[0], list(args))


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    assert SCHEMA.is_file(), f"the Compose schema is missing at {SCHEMA}"
    schema = yaml.safe_load(SCHEMA.read_text())
    assert "draft-07" in schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose()), key=str)
    assert not errors, "\n".join(error.message for error in errors)


def test_the_deployment_has_every_part_with_health_checks_and_named_volumes() -> None:
    document = compose()
    services = document["services"]
    assert set(services) >= REQUIRED_SERVICES
    missing = [name for name, service in services.items() if name != "migrate" and "healthcheck" not in service]
    assert not missing, f"services without a health check: {missing}"
    assert {"postgres-data", "redis-data"} <= set(document["volumes"])
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker, "--scale worker=N needs neither"
    assert "seccomp=unconfined" in worker["security_opt"], "bubblewrap needs its namespaces"


def test_every_grader_command_the_compose_file_runs_exists_in_the_cli() -> None:
    grader_argvs = [argv for _, argv in commands(compose()) if argv and argv[0] == "grader"]
    assert len(grader_argvs) >= 5
    for argv in grader_argvs:
        check_grader_argv(argv)


@pytest.mark.parametrize("argv", [["grader", "wokrer"], ["grader", "worker", "--no-such-option"],
                                  ["grader", "db", "downgrade"]])
def test_the_check_itself_rejects_unknown_commands_and_options(argv: list[str]) -> None:
    with pytest.raises((AssertionError, typer.TyperException)):
        check_grader_argv(argv)


def test_flower_is_pinned_for_the_monitoring_service() -> None:
    assert '"flower==2.2.0"' in (REPO_ROOT / "pyproject.toml").read_text()
    flower = compose()["services"]["flower"]
    assert flower["command"][:3] == ["celery", "--app", "workers.app"]
    assert Path(REPO_ROOT / "workers" / "app.py").is_file()
