"""The schema check before every embedded grade: the revision files' own declarations agree with Alembic."""

import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

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


def _schema(engine: Engine) -> dict[str, Any]:
    """Every table's columns, keys, indexes and constraints as the database reports them (columns by name: the
    revisions append the columns they add, the models declare them where they belong)."""
    found = inspect(engine)
    return {table: {
        "columns": sorted((c["name"], str(c["type"]), c["nullable"], c.get("default"))
                          for c in found.get_columns(table)),
        "primary_key": found.get_pk_constraint(table)["constrained_columns"],
        "foreign_keys": sorted((tuple(k["constrained_columns"]), k["referred_table"], tuple(k["referred_columns"]),
                                str(k.get("options", {}))) for k in found.get_foreign_keys(table)),
        "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]),
                           sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items()))
                          for i in found.get_indexes(table)),
        "unique": sorted((u["name"], tuple(u["column_names"])) for u in found.get_unique_constraints(table)),
        "checks": sorted((c["name"], c["sqltext"]) for c in found.get_check_constraints(table)),
    } for table in sorted(found.get_table_names())}


def test_a_new_database_created_at_head_is_the_migrated_schema(tmp_path: Path) -> None:
    created = create_engine(f"sqlite:///{tmp_path / 'created.db'}")
    migrated = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    assert migrate.create_at_head(created)
    migrate.upgrade(migrated)
    assert migrate.is_current(created)
    assert _schema(created) == _schema(migrated)


def test_alembic_takes_a_database_created_at_head_down_and_up_again(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'grader.db'}")
    assert migrate.create_at_head(engine)
    assert migrate.upgrade(engine) == []
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-2")
    newest_two = [script.revision for script in ScriptDirectory.from_config(config).walk_revisions()][:2]
    assert [applied.revision for applied in migrate.upgrade(engine)] == newest_two[::-1]
    assert migrate.is_current(engine)


def test_a_database_that_has_a_table_is_left_to_the_revisions(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'grader.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    assert not migrate.create_at_head(engine)
    assert inspect(engine).get_table_names() == ["notes"]
