"""Revision 0004 goes down and up again cleanly on the embedded default and on Postgres."""

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
