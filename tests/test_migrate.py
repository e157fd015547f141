"""The schema check before every embedded grade: the revision files' own declarations agree with Alembic."""

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from grader import migrate


def test_declared_heads_are_alembics_heads() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert migrate.declared_heads() == set(script.get_heads())


def test_is_current_follows_the_stored_revision(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'grader.db'}")
    assert not migrate.is_current(engine)
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    assert not migrate.is_current(engine)


def test_a_revision_that_is_not_plain_leaves_the_check_to_alembic(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    copied = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copied)
    newest = sorted((copied / "versions").glob("*.py"))[-1]
    newest.write_text(newest.read_text().replace('revision = "', 'revision = str("', 1).replace(
        '"\ndown_revision', '")\ndown_revision', 1))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copied)
    assert migrate.declared_heads() is None
    engine = create_engine(f"sqlite:///{tmp_path / 'grader.db'}")
    assert not migrate.is_current(engine)
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
