"""The models and the migrations describe one schema: Alembic's autogenerate comparison of a database migrated
to head against the models finds nothing, on Postgres and on the embedded SQLite default alike.

Types and server defaults are compared too, so a column changed in a model without a revision fails here.
"""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from grader.models import Base


def schema_drift(engine: Engine) -> list[Any]:
    """What autogenerate would put in a new revision: empty when the migrated schema is the models' schema."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "compare_server_default": True})
        return list(compare_metadata(context, Base.metadata))


def test_a_migrated_database_is_what_the_models_describe(engine: Engine) -> None:
    drift = schema_drift(engine)
    assert drift == [], f"models and migrations differ on {engine.dialect.name}: {drift}"


def test_the_comparison_sees_a_renamed_constraint(engine: Engine) -> None:
    """The comparison is strong enough to catch the drift it was written for: a constraint named differently."""
    submissions = Base.metadata.tables["submissions"]
    constraint = next(c for c in submissions.constraints if c.name == "uq_submissions_course_assignment_external_id")
    constraint.name = "course_assignment_external_id"  # type: ignore[assignment]
    try:
        kinds = [diff[0] for diff in schema_drift(engine)]
    finally:
        constraint.name = "uq_submissions_course_assignment_external_id"  # type: ignore[assignment]
    assert kinds == ["remove_constraint", "add_constraint"]
