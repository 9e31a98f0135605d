"""Path pattern pieces shared by every plugin (the upstream URL regexes).

Use them in Cornice paths: ``f"/api/grades/v1/courses/{COURSE_ID}/"``.
Anything not matching is a plain 404 from routing, as upstream.
"""
USERNAME = r"{username:[\w .@_+-]+}"
COURSE_ID = r"{course_id:[^/+]+(/|\+)[^/+]+(/|\+)[^/?]+}"
COURSE_KEY = r"{course_key_string:[^/+]+(/|\+)[^/+]+(/|\+)[^/?]+}"
USAGE_ID = r"{usage_key_string:(?:i4x://?[^/]+/[^/]+/[^/]+/[^@]+(?:@[^/]+)?)|(?:[^/]+)}"
INTEGER_ID = r"{id:\d+}"
