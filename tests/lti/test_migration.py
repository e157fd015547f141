"""Revision 0009 (LTI tables, passback channels) goes down and up again on the embedded default and on Postgres."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from grader.migrate import alembic_config, upgrade

LTI_TABLES = {"lti_platforms", "lti_tool_keys", "lti_login_states", "lti_launches", "lti_submission_links"}


def test_0009_adds_and_removes_the_lti_tables_and_the_passback_channel(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    before = ScriptDirectory.from_config(config).get_revision("0009").down_revision
    assert isinstance(before, str)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, before)
    assert not LTI_TABLES & set(inspect(engine).get_table_names())
    assert "channel" not in {column["name"] for column in inspect(engine).get_columns("passbacks")}
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= LTI_TABLES
    columns = {column["name"] for column in inspect(engine).get_columns("passbacks")}
    assert {"channel", "lti_launch_id"} <= columns
