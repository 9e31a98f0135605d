"""Response bodies of the courses plugin, for the OpenAPI document (``lms.openapi``).

Dates are ISO 8601 strings or null; text a course author may leave empty is nullable.
"""
from lms.openapi import (
    ANY, ANY_OBJECT, BOOLEAN, INTEGER, NO_BODY, STRING, Body, array, namespaced_page_of,
    nullable, obj,
)

DATE = nullable(STRING)
URI = obj({"uri": nullable(STRING)})
IMAGE_URLS = obj({"raw": nullable(STRING), "small": nullable(STRING),
                  "large": nullable(STRING)})

COURSE = obj({
    "blocks_url": STRING,
    "effort": nullable(STRING),
    "end": DATE,
    "enrollment_start": DATE,
    "enrollment_end": DATE,
    "id": STRING,
    "media": obj({"banner_image": obj({"uri": nullable(STRING), "uri_absolute": STRING}),
                  "course_image": URI, "course_video": URI, "image": IMAGE_URLS}),
    "name": STRING,
    "number": STRING,
    "org": STRING,
    "short_description": nullable(STRING),
    "start": DATE,
    "start_display": nullable(STRING),
    "start_type": {"type": "string", "enum": ["string", "timestamp", "empty"]},
    "pacing": {"type": "string", "enum": ["self", "instructor"]},
    "mobile_available": BOOLEAN,
    "hidden": BOOLEAN,
    "invitation_only": BOOLEAN,
    "course_id": STRING,
})
COURSE_DETAIL = obj({**COURSE["properties"], "overview": nullable(STRING),
                     "certificate_available_date": DATE, "is_enrolled": BOOLEAN},
                    required=[*COURSE["required"], "overview"])
COURSE_PAGE = namespaced_page_of(COURSE)
COURSE_IDS_PAGE = namespaced_page_of(STRING)

# The blocks API: {"root", "blocks": {id: block}} or, with return_type=list, [block]
# (which courses on the new discussions provider turn into {id: block}, as upstream).
BLOCK = obj({"id": STRING, "block_id": STRING, "type": STRING, "display_name": STRING},
            required=["id"])
BLOCKS_BY_ID = {"type": "object", "additionalProperties": BLOCK}
BLOCKS = {"anyOf": [obj({"root": STRING, "blocks": BLOCKS_BY_ID}), array(BLOCK), BLOCKS_BY_ID]}
BLOCK_METADATA_V1 = obj({"id": STRING, "type": STRING, "index_dictionary": ANY_OBJECT},
                        required=["id", "type"])

COURSEWARE_COURSE = obj({
    "id": STRING,
    "name": STRING,
    "effort": nullable(STRING),
    "start": DATE,
    "end": DATE,
    "enrollment_start": DATE,
    "enrollment_end": DATE,
    "enrollment": obj({"mode": nullable(STRING), "is_active": BOOLEAN}),
    "access_expiration": nullable(ANY_OBJECT),
    "media": ANY_OBJECT,
    "pacing": STRING,
    "short_description": nullable(STRING),
    "license": nullable(STRING),
    "language": nullable(STRING),
    "start_display": nullable(STRING),
    "start_type": STRING,
    "show_courseware_link": BOOLEAN,
    "can_enroll": BOOLEAN,
    "celebrations": ANY_OBJECT,
    "overview": nullable(STRING),
    "advertised_start": nullable(STRING),
    "course_price": nullable(STRING),
    "course_image_urls": array(nullable(STRING)),
}, required=False)  # ?requested_fields= keeps only the fields asked for

SEQUENCE = obj({
    "items": array(ANY_OBJECT),
    "element_id": STRING,
    "item_id": STRING,
    "is_time_limited": BOOLEAN,
    "is_proctored": BOOLEAN,
    "tag": STRING,
    "banner_text": nullable(STRING),
    "gated_content": ANY_OBJECT,
    "sequence_name": nullable(STRING),
    "display_name": STRING,
    "format": nullable(STRING),
    "navigation_disabled": BOOLEAN,
}, required=["items", "item_id", "tag"])

RESUME = obj({"block_id": nullable(STRING), "section_id": nullable(STRING),
              "unit_id": nullable(STRING)})

OUTLINE = obj({
    "course_key": STRING,
    "course_start": DATE,
    "course_end": DATE,
    "title": nullable(STRING),
    "published_at": DATE,
    "published_version": nullable(STRING),
    "entrance_exam_id": nullable(STRING),
    "days_early_for_beta": nullable(INTEGER),
    "self_paced": BOOLEAN,
    "username": STRING,
    "user_id": nullable(INTEGER),
    "at_time": STRING,
    "outline": obj({"sections": array(ANY_OBJECT),
                    "sequences": {"type": "object", "additionalProperties": ANY_OBJECT}}),
}, required=["course_key", "outline"])

XBLOCK_METADATA = obj({"block_id": STRING, "block_type": STRING,
                       "display_name": nullable(STRING), "index_dictionary": ANY_OBJECT,
                       "student_view_data": ANY},
                      required=["block_id", "block_type", "display_name"])
XBLOCK_VIEW = obj({**XBLOCK_METADATA["properties"], "content": STRING,
                   "resources": array(ANY_OBJECT)},
                  required=["block_id", "block_type", "display_name", "content", "resources"])
HANDLER_URL = obj({"handler_url": STRING})

ORGANIZATION = obj({"id": INTEGER, "created": STRING, "modified": STRING, "name": STRING,
                    "short_name": STRING, "description": nullable(STRING),
                    "logo": nullable(STRING), "active": BOOLEAN})

ASSET = Body({"type": "string", "format": "binary"}, "The file.", "*/*")
EMPTY = NO_BODY
