"""Assignment versions: bundle archives by content hash, each course's uploaded versions, and the one it grades.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _create_versions() -> None:
    op.create_table(
        "assignment_versions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("course_id", sa.String(64), nullable=False),
        sa.Column("assignment", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("rubric_version", sa.String(64), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("check_report", sa.JSON(), nullable=True),
        sa.Column("published_by", sa.String(255), nullable=False),
        _when("created_at"),
        _when("published_at", nullable=True),
        _when("dispatched_at", nullable=True),
        sa.Column("dispatches", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE",
                                name="fk_assignment_versions_course_id_courses"),
        sa.ForeignKeyConstraint(["content_hash"], ["bundle_archives.content_hash"],
                                name="fk_assignment_versions_content_hash_bundle_archives"),
        sa.PrimaryKeyConstraint("id", name="pk_assignment_versions"),
        sa.UniqueConstraint("course_id", "assignment", "content_hash",
                            name="uq_assignment_versions_course_assignment_content"),
    )
    op.create_index("ix_assignment_versions_course_assignment", "assignment_versions", ["course_id", "assignment"])


def upgrade() -> None:
    op.create_table(
        "bundle_archives",
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("content_hash", name="pk_bundle_archives"),
    )
    _create_versions()
    with op.batch_alter_table("course_assignments") as batch:
        batch.add_column(sa.Column("version_id", sa.String(32), nullable=True))
        batch.create_foreign_key("fk_course_assignments_version_id_assignment_versions", "assignment_versions",
                                 ["version_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("course_assignments") as batch:
        batch.drop_constraint("fk_course_assignments_version_id_assignment_versions", type_="foreignkey")
        batch.drop_column("version_id")
    op.drop_index("ix_assignment_versions_course_assignment", table_name="assignment_versions")
    op.drop_table("assignment_versions")
    op.drop_table("bundle_archives")
