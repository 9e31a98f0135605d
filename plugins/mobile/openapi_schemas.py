"""Response bodies of the mobile API, for the OpenAPI document (``lms.openapi``)."""
from lms.openapi import (
    ANY_OBJECT, BOOLEAN, DATETIME, INTEGER, STRING, array, nullable, obj, page_of,
)

USER = obj({"id": INTEGER, "username": STRING, "email": STRING, "name": STRING,
            "course_enrollments": STRING})

ACCESS = obj({"has_access": BOOLEAN, "error_code": nullable(STRING),
              "developer_message": nullable(STRING), "user_message": nullable(STRING),
              "additional_context_user_message": nullable(STRING),
              "user_fragment": nullable(ANY_OBJECT)})
ACCESS_ERROR = {"oneOf": [ACCESS, obj({"detail": STRING})]}

COURSE = obj({
    "id": STRING, "name": STRING, "number": STRING, "org": STRING, "org_logo": STRING,
    "start": nullable(DATETIME), "start_display": nullable(STRING), "start_type": STRING,
    "end": nullable(DATETIME), "dynamic_upgrade_deadline": nullable(DATETIME),
    "subscription_id": STRING, "courseware_access": ACCESS,
    "media": obj({"course_image": obj({"uri": STRING, "name": STRING})}),
    "course_image": STRING, "course_about": STRING,
    "course_sharing_utm_parameters": obj({"facebook": STRING, "twitter": STRING}),
    "course_updates": STRING, "course_handouts": STRING, "discussion_url": nullable(STRING),
    "video_outline": nullable(STRING), "is_self_paced": BOOLEAN,
})
MODE = obj({"slug": STRING, "sku": nullable(STRING), "android_sku": nullable(STRING),
            "ios_sku": nullable(STRING), "min_price": INTEGER})
ENROLLMENT = obj({
    "audit_access_expires": nullable(DATETIME), "created": DATETIME, "mode": STRING,
    "is_active": BOOLEAN, "course": COURSE, "certificate": ANY_OBJECT,
    "course_modes": array(MODE),
}, required=["created", "mode", "is_active", "course", "certificate"])
PROGRESS = obj({"total_assignments_count": INTEGER, "assignments_completed": INTEGER})
PRIMARY = obj({
    **ENROLLMENT["properties"],
    "course_status": nullable(obj({
        "last_visited_module_id": STRING, "last_visited_module_path": array(STRING),
        "last_visited_block_id": STRING, "last_visited_unit_display_name": STRING})),
    "course_progress": PROGRESS,
    "course_assignments": obj({"future_assignments": array(ANY_OBJECT),
                               "past_assignments": array(ANY_OBJECT)}),
})
CONFIGS = obj({"iap_configs": ANY_OBJECT}, required=["iap_configs"])
ENROLLMENTS = {"oneOf": [
    array(ENROLLMENT),  # v0.5, v1
    obj({"configs": CONFIGS, "user_timezone": STRING,
         "enrollments": {"oneOf": [array(ENROLLMENT), page_of(ENROLLMENT)]},
         "primary": PRIMARY}, required=["configs", "user_timezone", "enrollments"]),
]}

COURSE_STATUS = obj({"last_visited_module_id": STRING,
                     "last_visited_module_path": array(STRING),
                     "last_visited_block_id": STRING},
                    required=["last_visited_module_id", "last_visited_module_path"])
MOBILE_ERRORS = obj({"errors": array(obj({"code": STRING, "message": STRING}))})
BARE_MESSAGE = STRING
HANDOUTS = obj({"handouts_html": nullable(STRING)})
UPDATES = array(obj({"id": INTEGER, "date": STRING, "content": STRING, "status": STRING},
                    required=["id", "date", "content"]))
