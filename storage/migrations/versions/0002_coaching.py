"""Coaching: follow-up questions as a setup choice, follow-up exchanges, voice delivery.

- interviews.follow_ups: the setup choice (off by default);
- interview_sessions.follow_ups: the follow-up exchanges, [{index, question, answer}];
- transcript_entries.kind: null for ordinary rows, "follow_up" for a follow-up question
  and its answer;
- transcript_entries.delivery: for answers given by voice, what flows.delivery measured.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("interviews") as table:
        table.add_column(
            sa.Column("follow_ups", sa.Boolean, nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("interview_sessions") as table:
        table.add_column(sa.Column("follow_ups", sa.JSON))
    with op.batch_alter_table("transcript_entries") as table:
        table.add_column(sa.Column("kind", sa.String(20)))
        table.add_column(sa.Column("delivery", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("transcript_entries") as table:
        table.drop_column("delivery")
        table.drop_column("kind")
    with op.batch_alter_table("interview_sessions") as table:
        table.drop_column("follow_ups")
    with op.batch_alter_table("interviews") as table:
        table.drop_column("follow_ups")
