"""Courses, their assignments and API tokens; the course and callback of a submission; the passback outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _create_courses() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_courses"),
    )
    op.create_table(
        "course_assignments",
        sa.Column("course_id", sa.String(64), nullable=False),
        sa.Column("assignment", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE",
                                name="fk_course_assignments_course_id_courses"),
        sa.PrimaryKeyConstraint("course_id", "assignment", name="pk_course_assignments"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("course_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE",
                                name="fk_api_tokens_course_id_courses"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
    )
    op.create_index("ix_api_tokens_course_id", "api_tokens", ["course_id"])


def _create_passbacks() -> None:
    op.create_table(
        "passbacks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("callback_url", sa.String(2048), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE",
                                name="fk_passbacks_submission_id_submissions"),
        sa.ForeignKeyConstraint(["run_id"], ["grading_runs.id"], ondelete="CASCADE",
                                name="fk_passbacks_run_id_grading_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_passbacks"),
    )
    op.create_index("ix_passbacks_submission_id", "passbacks", ["submission_id"])
    op.create_index("ix_passbacks_run_id", "passbacks", ["run_id"])
    op.create_index("ix_passbacks_status_next_attempt_at", "passbacks", ["status", "next_attempt_at"])


def upgrade() -> None:
    _create_courses()
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("course", sa.String(64), nullable=True))
        batch.add_column(sa.Column("callback_url", sa.String(2048), nullable=True))
        batch.create_foreign_key("fk_submissions_course_courses", "courses", ["course"], ["id"], ondelete="RESTRICT")
    op.create_index("ix_submissions_course", "submissions", ["course"])
    _create_passbacks()


def downgrade() -> None:
    op.drop_table("passbacks")
    op.drop_index("ix_submissions_course", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("fk_submissions_course_courses", type_="foreignkey")
        batch.drop_column("callback_url")
        batch.drop_column("course")
    op.drop_index("ix_api_tokens_course_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("course_assignments")
    op.drop_table("courses")
