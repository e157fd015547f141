"""The README's examples and tables match the code: paths exist, settings have their defaults, views their fields,
and every command it (or a command group's help) names exists in the CLI."""

import re
from pathlib import Path
from typing import Any

import typer

from grader.api.schemas import InstructorItemView, RunView
from grader.cli import app
from grader.config import SandboxSettings

REPO_ROOT = Path(__file__).resolve().parents[1]
README = (REPO_ROOT / "README.md").read_text()
EXAMPLE = "grader/assignments/layers/examples/student_solution.py"
COMMAND_VERBS = {"inspect", "list", "show", "retry", "create", "revoke", "resend", "relay", "upgrade", "downgrade",
                 "cancel", "publish", "rollback", "attach", "delete"}


def _section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_quick_start_names_the_example_it_grades() -> None:
    assert EXAMPLE in _section("Quick start")
    assert (REPO_ROOT / EXAMPLE).is_file()
    assert EXAMPLE in (REPO_ROOT / ".ci" / "demo").read_text()


def test_the_runtime_dir_is_in_the_configuration_table_with_its_default() -> None:
    rows = [line for line in README.splitlines() if line.startswith("| `GRADER_SANDBOX_RUNTIME_DIR`")]
    assert len(rows) == 1 and f"`{SandboxSettings().runtime_dir}`" in rows[0]


def test_the_run_view_fields_the_readme_names_exist() -> None:
    paragraph = README.split("every grading run (`runs`:", 1)[1].split("every passback delivery", 1)[0]
    named = set(re.findall(r"`([a-z_]+)`", paragraph)) - {"detail"}
    assert {"dispatched_at", "dispatches", "tests"} <= named
    assert named <= set(RunView.model_fields), named - set(RunView.model_fields)
    assert "detail" in InstructorItemView.model_fields


def _groups(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = []
    if isinstance(getattr(command, "commands", None), dict):
        found.append((path, command))
        for name, sub in command.commands.items():
            found += _groups(sub, (*path, name))
    return found


def test_a_command_groups_help_names_only_commands_it_has() -> None:
    for path, group in _groups(typer.main.get_command(app)):
        promised = set(re.findall(r"[a-z]+", (group.help or "").lower())) & COMMAND_VERBS
        assert promised <= set(group.commands), (path, promised - set(group.commands))


def test_every_grader_command_in_the_readme_exists() -> None:
    root: Any = typer.main.get_command(app)
    spans = re.findall(r"`(?:\.venv/bin/)?grader ([^`]+)`", README)
    lines = re.findall(r"^(?:\.venv/bin/)?grader (.+)$", README, re.M)
    assert len(spans) + len(lines) > 20
    for invocation in spans + lines:
        command = root
        for word in invocation.split():
            if not (isinstance(getattr(command, "commands", None), dict) and re.fullmatch(r"[a-z][a-z|-]*", word)):
                break
            names = word.split("|")
            missing = [name for name in names if name not in command.commands]
            assert not missing, f"README runs `grader {invocation}`: no command {missing}"
            command = command.commands[names[0]]
