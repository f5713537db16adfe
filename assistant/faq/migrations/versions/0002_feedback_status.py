"""Each rating's place in the owner's review: new, accepted, rejected or out_of_scope.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("feedback") as table:
        table.add_column(sa.Column("status", sa.Text, nullable=False, server_default="new"))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as table:
        table.drop_column("status")
