"""Submissions, grading runs and item results.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("assignment", sa.String(64), nullable=False),
        sa.Column("student", sa.String(255), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
        sa.UniqueConstraint("assignment", "external_id", name="uq_submissions_assignment_external_id"),
    )
    op.create_index("ix_submissions_assignment", "submissions", ["assignment"])
    op.create_index("ix_submissions_student", "submissions", ["student"])
    op.create_index("ix_submissions_sha256", "submissions", ["sha256"])
    op.create_table(
        "grading_runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("rubric_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("max_score", sa.Float(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("locked_cells_modified", sa.Boolean(), nullable=False),
        sa.Column("integrity_flags", sa.JSON(), nullable=False),
        sa.Column("sandbox_usage", sa.JSON(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE",
                                name="fk_grading_runs_submission_id_submissions"),
        sa.PrimaryKeyConstraint("id", name="pk_grading_runs"),
    )
    op.create_index("ix_grading_runs_submission_id", "grading_runs", ["submission_id"])
    op.create_index("ix_grading_runs_status", "grading_runs", ["status"])
    op.create_table(
        "item_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("max_points", sa.Float(), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["grading_runs.id"], ondelete="CASCADE",
                                name="fk_item_results_run_id_grading_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_item_results"),
    )
    op.create_index("ix_item_results_run_id", "item_results", ["run_id"])


def downgrade() -> None:
    op.drop_table("item_results")
    op.drop_table("grading_runs")
    op.drop_table("submissions")
