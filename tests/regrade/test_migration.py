"""Revisions 0004 to 0008 go down and up again cleanly on the embedded default and on Postgres."""

from alembic import command
from sqlalchemy import Engine, inspect, select

from grader.db import make_session_factory, session_scope
from grader.migrate import alembic_config, upgrade
from grader.models import GradingRun, RunStatus, Submission


def test_0004_downgrades_and_upgrades(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    assert "regrade_batches" not in inspect(engine).get_table_names()
    assert "batch_id" not in {column["name"] for column in inspect(engine).get_columns("grading_runs")}
    upgrade(engine)
    columns = {column["name"] for column in inspect(engine).get_columns("grading_runs")}
    assert {"batch_id", "preview", "replaces_run_id"} <= columns


def _unique_keys(engine: Engine) -> set[tuple[str, ...]]:
    return {tuple(c["column_names"]) for c in inspect(engine).get_unique_constraints("submissions")}


def test_0005_scopes_the_external_id_to_its_course(engine: Engine) -> None:
    assert ("course", "assignment", "external_id") in _unique_keys(engine)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert ("assignment", "external_id") in _unique_keys(engine)
    upgrade(engine)
    keys = _unique_keys(engine)
    assert ("course", "assignment", "external_id") in keys and ("assignment", "external_id") not in keys


def test_0006_adds_and_removes_the_parsed_cells(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    assert "parsed_cells" not in {column["name"] for column in inspect(engine).get_columns("submissions")}
    upgrade(engine)
    assert "parsed_cells" in {column["name"] for column in inspect(engine).get_columns("submissions")}


OLD_CANCELLED_REASON = "cancelled with its regrade batch before a worker took it"


def _migrate_to(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _statuses(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(select(GradingRun.__table__.c.id, GradingRun.__table__.c.status,
                                         GradingRun.__table__.c.error))
        return {run_id: (status, error) for run_id, status, error in rows}


def test_0008_gives_cancelled_runs_their_own_status(engine: Engine) -> None:
    _migrate_to(engine, "0006")
    with session_scope(make_session_factory(engine)) as session:
        submission = Submission(assignment="layers", student="s", filename="layers_dev.py", content=b"x",
                                sha256="0" * 64, size_bytes=1)
        session.add_all([submission,
                         GradingRun(id="cancelled", submission=submission, rubric_version="v", status=RunStatus.ERROR,
                                    error=OLD_CANCELLED_REASON),
                         GradingRun(id="broken", submission=submission, rubric_version="v", status=RunStatus.ERROR,
                                    error="sandbox broke")])
    upgrade(engine)
    assert _statuses(engine) == {"cancelled": ("cancelled", None), "broken": ("error", "sandbox broke")}
    _migrate_to(engine, "0006")
    assert _statuses(engine) == {"cancelled": ("error", OLD_CANCELLED_REASON), "broken": ("error", "sandbox broke")}
    upgrade(engine)
