"""Initial schema: collector sessions, interviews, interview sessions, transcript entries.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "collector_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False, index=True),
        sa.Column("candidate_name", sa.String(200)),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("completed", sa.Boolean, nullable=False),
        sa.Column("interview_id", sa.String(36)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "interviews",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(200), nullable=False),
        sa.Column("interview_type", sa.String(20), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("techstack", sa.JSON, nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("questions", sa.JSON, nullable=False),
        sa.Column("questions_source", sa.String(20), nullable=False),
        sa.Column("collector_session_id", sa.String(36)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_interviews_user_created", "interviews", ["user_id", "created_at"])
    op.create_table(
        "interview_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "interview_id",
            sa.String(36),
            sa.ForeignKey("interviews.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(128), nullable=False, index=True),
        sa.Column("question_index", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("feedback", sa.JSON),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "transcript_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_type", sa.String(20), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("speaker", sa.String(20), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("timings", sa.JSON),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_transcript_session", "transcript_entries", ["session_type", "session_id", "id"]
    )


def downgrade() -> None:
    op.drop_table("transcript_entries")
    op.drop_table("interview_sessions")
    op.drop_table("interviews")
    op.drop_table("collector_sessions")
