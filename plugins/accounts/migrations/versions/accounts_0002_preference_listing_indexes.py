"""indexes for the paged listings: preferences by key, a provider's social auth links

Revision ID: accounts_0002
Revises: accounts_0001
Create Date: 2026-12-14 12:00:00.000000
"""
from alembic import op


revision = 'accounts_0002'
down_revision = 'accounts_0001'
branch_labels = None
depends_on = None


def upgrade():
    # preferences/{key}/users/ pages a key's user ids and user_prefs/?key= a key's row
    # ids, each in order, from one index without reading the table; the index on key
    # alone is a prefix of both.
    with op.batch_alter_table('accounts_preference', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_preference_key_user_id', ['key', 'user_id'],
                              unique=False)
        batch_op.create_index('ix_accounts_preference_key_id', ['key', 'id'], unique=False)
        batch_op.drop_index('ix_accounts_preference_key')
    # A third-party auth provider's user mapping pages its link ids in order.
    with op.batch_alter_table('accounts_social_auth', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_social_auth_provider_id', ['provider', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('accounts_social_auth', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_social_auth_provider_id')
    with op.batch_alter_table('accounts_preference', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_preference_key', ['key'], unique=False)
        batch_op.drop_index('ix_accounts_preference_key_id')
        batch_op.drop_index('ix_accounts_preference_key_user_id')
