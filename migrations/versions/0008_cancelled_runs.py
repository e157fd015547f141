"""Runs cancelled with their regrade batch get a status of their own instead of `error` plus a magic message.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

# The message revisions up to 0006 wrote on a cancelled run; copied here, never imported (revisions stand alone).
CANCELLED_REASON = "cancelled with its regrade batch before a worker took it"
runs = sa.table("grading_runs", sa.column("status", sa.String(16)), sa.column("error", sa.Text()))


def upgrade() -> None:
    op.execute(runs.update().where(runs.c.status == "error", runs.c.error == CANCELLED_REASON)
               .values(status="cancelled", error=None))


def downgrade() -> None:
    op.execute(runs.update().where(runs.c.status == "cancelled").values(status="error", error=CANCELLED_REASON))
