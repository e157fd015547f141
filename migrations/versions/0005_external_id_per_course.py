"""An LMS's external_id is unique within its course, not across every course of the grader.

Two courses on different LMS instances can both send "assignment 12, submission 1"; with the key scoped to the
assignment alone, the second course's upload was refused as a conflict.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD = "uq_submissions_assignment_external_id"
NEW = "uq_submissions_course_assignment_external_id"


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint(OLD, type_="unique")
        batch.create_unique_constraint(NEW, ["course", "assignment", "external_id"])


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint(NEW, type_="unique")
        batch.create_unique_constraint(OLD, ["assignment", "external_id"])
