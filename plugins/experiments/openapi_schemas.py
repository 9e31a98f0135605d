"""Response bodies of the experiments API, for the OpenAPI document (``lms.openapi``)."""
from lms.openapi import (
    ANY_OBJECT, BOOLEAN, DATETIME, INTEGER, NUMBER, STRING, array, nullable, obj, page_of,
)

KEY_VALUE = obj({"id": INTEGER, "experiment_id": INTEGER, "key": STRING, "value": STRING,
                 "created": DATETIME, "modified": DATETIME})
DATA = obj({**KEY_VALUE["properties"], "user": STRING})
DATA_PAGE = page_of(DATA)
KEY_VALUE_PAGE = page_of(KEY_VALUE)

# Three shapes: upsell off; course not running; offer or not (with its reasons).
REV934 = obj({
    "show_upsell": BOOLEAN,
    "upsell_flag": BOOLEAN,
    "course_running": BOOLEAN,
    "price": STRING,
    "basket_url": nullable(STRING),
    "experiment_bucket": INTEGER,
    "user_upsell": BOOLEAN,
}, required=["show_upsell"])

USER_METADATA = obj({
    "username": STRING,
    "user_id": INTEGER,
    "course_id": STRING,
    "course_display_name": nullable(STRING),
    "enrollment_mode": nullable(STRING),
    "upgrade_link": nullable(STRING),
    "upgrade_price": nullable(STRING),
    "audit_access_deadline": nullable(STRING),
    "course_duration": nullable(NUMBER),
    "pacing_type": {"type": "string", "enum": ["self_paced", "instructor_paced"]},
    "has_staff_access": BOOLEAN,
    "forum_roles": array(STRING),
    "partition_groups": ANY_OBJECT,
    "has_non_audit_enrollments": BOOLEAN,
    "program_key_fields": nullable(ANY_OBJECT),
    "email": STRING,
    "schedule_start": nullable(STRING),
    "enrollment_time": nullable(STRING),
    "course_start": nullable(STRING),
    "course_end": nullable(STRING),
    "dynamic_upgrade_deadline": nullable(STRING),
    "course_upgrade_deadline": nullable(STRING),
    "course_key_fields": obj({"org": STRING, "course": STRING, "run": STRING}),
})
