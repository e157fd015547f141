"""Queue bookkeeping on grading runs: dispatch times, the claim lease, and one current run per submission.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grading_runs") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("dispatches", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(64), nullable=True))
    op.create_index("ix_grading_runs_status_lease", "grading_runs", ["status", "lease_expires_at"])
    op.create_index("ix_grading_runs_started_at", "grading_runs", ["started_at"])
    op.create_index("uq_grading_runs_current_submission", "grading_runs", ["submission_id"], unique=True,
                    postgresql_where=sa.text("is_current"), sqlite_where=sa.text("is_current"))


def downgrade() -> None:
    op.drop_index("uq_grading_runs_current_submission", table_name="grading_runs")
    op.drop_index("ix_grading_runs_started_at", table_name="grading_runs")
    op.drop_index("ix_grading_runs_status_lease", table_name="grading_runs")
    with op.batch_alter_table("grading_runs") as batch:
        batch.drop_column("claim_token")
        batch.drop_column("lease_expires_at")
        batch.drop_column("dispatches")
        batch.drop_column("dispatched_at")
