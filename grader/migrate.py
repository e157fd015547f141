"""Schema upgrades through Alembic, for the CLI, the tests and the embedded default alike."""

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest revision: the cheap check before every embedded grade."""
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


@dataclass(frozen=True)
class AppliedRevision:
    """One migration an upgrade ran: its id and the first line of its docstring."""

    revision: str
    title: str


def upgrade(engine: Engine) -> list[AppliedRevision]:
    """Bring the schema to head; safe to run repeatedly. Returns what was applied, oldest first (empty: at head)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    scripts = ScriptDirectory.from_config(config)
    with engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        pending = list(scripts.iterate_revisions("head", before))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return [AppliedRevision(script.revision, (script.doc or "").strip().splitlines()[0] if script.doc else "")
            for script in reversed(pending)]


def head_revision() -> str:
    """The newest revision this code ships."""
    return str(ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head())
