"""Revisions 0004 to 0006 go down and up again cleanly on the embedded default and on Postgres."""

from alembic import command
from sqlalchemy import Engine, inspect

from grader.migrate import alembic_config, upgrade


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
