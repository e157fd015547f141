"""Regrade batches, and the batch, preview flag and replaced run of a grading run.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _create_batches() -> None:
    op.create_table(
        "regrade_batches",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("assignment", sa.String(64), nullable=False),
        sa.Column("course", sa.String(64), nullable=True),
        sa.Column("rubric_version", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("preview", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["course"], ["courses.id"], ondelete="CASCADE",
                                name="fk_regrade_batches_course_courses"),
        sa.PrimaryKeyConstraint("id", name="pk_regrade_batches"),
    )
    op.create_index("ix_regrade_batches_assignment", "regrade_batches", ["assignment"])
    op.create_index("ix_regrade_batches_course", "regrade_batches", ["course"])


def upgrade() -> None:
    _create_batches()
    with op.batch_alter_table("grading_runs") as batch:
        batch.add_column(sa.Column("batch_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("preview", sa.Boolean(), nullable=False, server_default=sa.text("false")))
        batch.add_column(sa.Column("replaces_run_id", sa.String(32), nullable=True))
        batch.create_foreign_key("fk_grading_runs_batch_id_regrade_batches", "regrade_batches", ["batch_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_foreign_key("fk_grading_runs_replaces_run_id_grading_runs", "grading_runs", ["replaces_run_id"],
                                 ["id"], ondelete="SET NULL")
    op.create_index("ix_grading_runs_batch_id", "grading_runs", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_grading_runs_batch_id", table_name="grading_runs")
    with op.batch_alter_table("grading_runs") as batch:
        batch.drop_constraint("fk_grading_runs_replaces_run_id_grading_runs", type_="foreignkey")
        batch.drop_constraint("fk_grading_runs_batch_id_regrade_batches", type_="foreignkey")
        batch.drop_column("replaces_run_id")
        batch.drop_column("preview")
        batch.drop_column("batch_id")
    op.drop_index("ix_regrade_batches_course", table_name="regrade_batches")
    op.drop_index("ix_regrade_batches_assignment", table_name="regrade_batches")
    op.drop_table("regrade_batches")
