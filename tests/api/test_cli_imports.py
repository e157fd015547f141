"""`grader --help` must stay instant: the CLI module loads no ORM, services, API, settings or numpy."""

import subprocess
import sys

HEAVY = ("sqlalchemy", "numpy", "fastapi", "starlette", "httpx", "pydantic", "pydantic_settings", "alembic",
         "jupytext", "nbformat", "celery", "grader.models", "grader.services.regrade", "grader.services.grade",
         "grader.api", "grader.config", "grader.db", "grader.runtime_context", "workers")


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint('\\n'.join(sys.modules))"
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                               check=True)
    return set(completed.stdout.split())


def _heavy(modules: set[str]) -> set[str]:
    return {name for name in modules if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY)}


def test_importing_the_cli_loads_nothing_heavy() -> None:
    assert _heavy(_loaded_after("import grader.cli")) == set()


def test_help_renders_without_loading_anything_heavy_or_rich() -> None:
    code = ("import contextlib, io, sys\nsys.argv = ['grader', '--help']\nfrom grader.cli import app\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    try:\n        app()\n    except SystemExit:\n"
            "        pass")
    loaded = _loaded_after(code)
    assert _heavy(loaded) == set()
    assert not {name for name in loaded if name == "rich" or name.startswith("rich.")}
