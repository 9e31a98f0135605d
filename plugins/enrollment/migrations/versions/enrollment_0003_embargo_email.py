"""embargo rules and course email opt-outs

Revision ID: enrollment_0003
Revises: enrollment_0002
"""
from alembic import op
import sqlalchemy as sa
import lms.db


revision = 'enrollment_0003'
down_revision = 'enrollment_0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('enrollment_embargo_restricted_course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('enroll_msg_key', sa.String(length=255), nullable=False),
    sa.Column('access_msg_key', sa.String(length=255), nullable=False),
    sa.Column('disable_access_check', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_embargo_restricted_course')),
    sa.UniqueConstraint('course_key', name=op.f('uq_enrollment_embargo_restricted_course_course_key'))
    )
    op.create_table('enrollment_embargo_country_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('restricted_course_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('rule_type', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['restricted_course_id'], ['enrollment_embargo_restricted_course.id'], name='fk_enrollment_embargo_country_rule_restricted_course', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_embargo_country_rule')),
    sa.UniqueConstraint('restricted_course_id', 'country', name=op.f('uq_enrollment_embargo_country_rule_restricted_course_id'))
    )
    op.create_table('enrollment_email_optout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_enrollment_email_optout_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_email_optout')),
    sa.UniqueConstraint('user_id', 'course_key', name=op.f('uq_enrollment_email_optout_user_id'))
    )
    with op.batch_alter_table('enrollment_email_optout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollment_email_optout_course_key'), ['course_key'], unique=False)


def downgrade():
    with op.batch_alter_table('enrollment_email_optout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollment_email_optout_course_key'))

    op.drop_table('enrollment_email_optout')
    op.drop_table('enrollment_embargo_country_rule')
    op.drop_table('enrollment_embargo_restricted_course')
