"""Default settings of the grades plugin (``grades.*``); each area adds its own keys
here, commented as in the ``.ini`` files."""

DEFAULTS = {
    # A score change recomputes the learner's grades right after commit when the course
    # has at most this many blocks; larger courses send the grades.refresh Celery task.
    "grades.sync_refresh_max_blocks": "2000",
    # Learners per committed batch of a course-wide recompute (grades.recompute_course).
    "grades.recompute_batch_size": "200",
    # Upstream's writable_gradebook waffle flag: "true" enables gradebook/{id}/ reads and
    # bulk-update for every course; a course enables it alone with the advanced setting
    # "writable_gradebook": true (its other settings).
    "grades.writable_gradebook": "false",
    # Gradebook overrides are refused ("grades_frozen") this many days after a course's
    # end (upstream's enforce_freeze_grade_after_course_end flag freezes after 30); ""
    # (the default, as upstream with the flag off) never freezes.
    "grades.freeze_days": "",
    # The learning MFE's base URL (upstream LEARNING_MICROFRONTEND_URL): course_home and
    # course_experience answers link to "<url>/course/<course key>/dates".
    "grades.learning_mfe_url": "http://localhost:2000",
    # Requests per global staff user to grades/v1/submission_history/ (upstream's DRF
    # "user" throttle rate), as "<count>/<s|m|h|d>".
    "grades.submission_history_rate": "60/m",
    # Upstream's completion.enable_completion_tracking switch: "false" records no block
    # completion (scores, publish_completion and completion-batch alike).
    "grades.completion_tracking": "true",
    # Upstream's FEATURES["DISABLE_HONOR_CERTIFICATES"]: "true" stops honor enrollments
    # from earning certificates (audit never does). Automatic generation for passing
    # learners follows the courses.auto_certificate_generation switch.
    "grades.disable_honor_certificates": "false",
}
