"""LTI 1.3: platform registrations, the tool's keys, login states, launches, their submissions; passback channels.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _create_platforms_and_keys() -> None:
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("course_id", sa.String(64), nullable=False),
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("deployment_ids", sa.JSON(), nullable=False),
        sa.Column("auth_login_url", sa.String(2048), nullable=False),
        sa.Column("token_url", sa.String(2048), nullable=False),
        sa.Column("jwks_url", sa.String(2048), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE",
                                name="fk_lti_platforms_course_id_courses"),
        sa.PrimaryKeyConstraint("id", name="pk_lti_platforms"),
        sa.UniqueConstraint("issuer", "client_id", "course_id", name="uq_lti_platforms_issuer_client_course"),
    )
    op.create_index("ix_lti_platforms_course_id", "lti_platforms", ["course_id"])
    op.create_table(
        "lti_tool_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_lti_tool_keys"),
    )
    op.create_table(
        "lti_login_states",
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("platform_id", sa.String(32), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.ForeignKeyConstraint(["platform_id"], ["lti_platforms.id"], ondelete="CASCADE",
                                name="fk_lti_login_states_platform_id_lti_platforms"),
        sa.PrimaryKeyConstraint("state", name="pk_lti_login_states"),
        sa.UniqueConstraint("nonce", name="uq_lti_login_states_nonce"),
    )
    op.create_index("ix_lti_login_states_platform_id", "lti_login_states", ["platform_id"])


def _create_launches() -> None:
    op.create_table(
        "lti_launches",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("platform_id", sa.String(32), nullable=False),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("resource_link_id", sa.String(255), nullable=False),
        sa.Column("lti_user_id", sa.String(255), nullable=False),
        sa.Column("course", sa.String(64), nullable=False),
        sa.Column("assignment", sa.String(64), nullable=False),
        sa.Column("student", sa.String(255), nullable=False),
        sa.Column("lineitem_url", sa.String(2048), nullable=True),
        sa.Column("lineitems_url", sa.String(2048), nullable=True),
        sa.Column("ags_scopes", sa.JSON(), nullable=False),
        sa.Column("upload_token_sha256", sa.String(64), nullable=True),
        _when("upload_expires_at", nullable=True),
        _when("launched_at"),
        sa.ForeignKeyConstraint(["platform_id"], ["lti_platforms.id"], ondelete="CASCADE",
                                name="fk_lti_launches_platform_id_lti_platforms"),
        sa.ForeignKeyConstraint(["course"], ["courses.id"], ondelete="CASCADE",
                                name="fk_lti_launches_course_courses"),
        sa.PrimaryKeyConstraint("id", name="pk_lti_launches"),
        sa.UniqueConstraint("platform_id", "deployment_id", "resource_link_id", "lti_user_id",
                            name="uq_lti_launches_link_user"),
        sa.UniqueConstraint("upload_token_sha256", name="uq_lti_launches_upload_token_sha256"),
    )
    op.create_index("ix_lti_launches_platform_id", "lti_launches", ["platform_id"])
    op.create_table(
        "lti_submission_links",
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("launch_id", sa.String(32), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE",
                                name="fk_lti_submission_links_submission_id_submissions"),
        sa.ForeignKeyConstraint(["launch_id"], ["lti_launches.id"], ondelete="CASCADE",
                                name="fk_lti_submission_links_launch_id_lti_launches"),
        sa.PrimaryKeyConstraint("submission_id", name="pk_lti_submission_links"),
    )
    op.create_index("ix_lti_submission_links_launch_id", "lti_submission_links", ["launch_id"])


def upgrade() -> None:
    _create_platforms_and_keys()
    _create_launches()
    with op.batch_alter_table("passbacks") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="webhook"))
        batch.add_column(sa.Column("lti_launch_id", sa.String(32), nullable=True))
        batch.create_foreign_key("fk_passbacks_lti_launch_id_lti_launches", "lti_launches", ["lti_launch_id"],
                                 ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("passbacks") as batch:
        batch.drop_constraint("fk_passbacks_lti_launch_id_lti_launches", type_="foreignkey")
        batch.drop_column("lti_launch_id")
        batch.drop_column("channel")
    op.drop_table("lti_submission_links")
    op.drop_table("lti_launches")
    op.drop_table("lti_login_states")
    op.drop_table("lti_tool_keys")
    op.drop_table("lti_platforms")
