"""Schema upgrades through Alembic, for the CLI, the tests and the embedded default alike."""

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, Engine, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_DECLARATION = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(url: str) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def declared_heads() -> set[str] | None:
    """The revisions no other revision builds on, read from each file's plain `revision = "..."` lines.

    Importing Alembic and executing every revision costs more than the rest of a one-file grade's check; a
    file whose declarations are not plain literals gives None, and Alembic decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        declared = dict(_DECLARATION.findall(path.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(declared["revision"])
            down = ast.literal_eval(declared.get("down_revision", "None"))
        except (KeyError, ValueError, SyntaxError):
            return None
        downs = down if isinstance(down, tuple) else () if down is None else (down,)
        if not isinstance(revision, str) or not all(isinstance(parent, str) for parent in downs):
            return None
        revisions.add(revision)
        parents.update(downs)
    return revisions - parents


def _stored_revisions(engine: Engine) -> list[str] | None:
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:
        return None


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest revision: the cheap check before every embedded grade."""
    heads = declared_heads()
    if heads is not None and len(heads) == 1:
        return _stored_revisions(engine) == sorted(heads)
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def _version_table() -> Table:
    """Alembic's record of the revision a database is at, as Alembic itself creates it."""
    return Table("alembic_version", MetaData(), Column("version_num", String(32), nullable=False),
                 PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))


def create_at_head(engine: Engine) -> bool:
    """Give a new database the models' schema in one transaction, stamped at the newest revision; False (and
    nothing done) when it already has a table or the newest revision is not plain from the files.

    What the revisions would build, without importing Alembic and running each of them (half a second, most of a
    first `grader grade`): tests/migrations holds the models equal to the migrated schema, and the revisions' only
    data change rewrites rows a new database does not have.
    """
    heads = declared_heads()
    if heads is None or len(heads) != 1:
        return False
    from grader.models import Base

    with engine.begin() as connection:
        if inspect(connection).get_table_names():
            return False
        Base.metadata.create_all(connection)
        version = _version_table()
        version.create(connection)
        connection.execute(version.insert().values(version_num=next(iter(heads))))
    return True


@dataclass(frozen=True)
class AppliedRevision:
    """One migration an upgrade ran: its id and the first line of its docstring."""

    revision: str
    title: str


def upgrade(engine: Engine) -> list[AppliedRevision]:
    """Bring the schema to head; safe to run repeatedly. Returns what was applied, oldest first (empty: at head)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

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
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head())
