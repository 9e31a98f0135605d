"""Known, reasoned exceptions to the fuzzing checks, each with its reason.

Everything not listed is held to the full checks, so a new operation is checked
without wiring, and every entry here is a reviewed decision. Keys are
``(route name, method)`` for the hostile-body corpus (an alias, ``Service.alias``,
shares its target's entries) and ``(METHOD, upstream path)`` for the upstream
contract.
"""

# -- hostile-body corpus (test_hostile_bodies.py) ----------------------------------

# Answer 2xx/3xx whatever the body, as upstream's views do: they read no body, read
# only Django's form (``request.POST``, empty for any other body), or answer a
# verdict. They must still never fail with a 5xx nor store anything (unless also in
# CHANGES_STATE_WITHOUT_BODY).
ANSWERS_ANY_BODY = {
    ("lms.logout", "POST"): "Django's LogoutView reads no body; it always redirects.",
    ("lms.login_refresh", "POST"): "re-issues the session's JWT cookies; reads no body.",
    ("accounts.send_account_activation_email", "POST"):
        "upstream's SendAccountActivationEmail reads no body.",
    ("accounts.profile_image", "DELETE"):
        "ProfileImageView.delete reads no body (204 even with no image).",
    ("accounts.profile_image_remove", "POST"):
        "the deprecated ProfileImageRemoveView reads no body (204).",
    ("accounts.registration_validation", "POST"):
        "RegistrationValidationView answers a verdict for whatever fields it finds "
        "(none in a list or scalar body) and stores nothing.",
    ("accounts.password_reset_token_validate", "POST"):
        "password_reset_token_validate reads request.POST['token']: any other body is "
        "no token, answered {\"is_valid\": false}.",
    ("accounts.password_reset_api", "POST"):
        "LogistrationPasswordResetView checks the token in the path first: an invalid "
        "one is a 200 {\"reset_status\": false, \"token_invalid\": true}.",
    ("accounts.password_reset_confirm", "POST"):
        "PasswordResetConfirmView answers an HTML page (invalid link) for any body.",
    ("accounts.password_reset_request", "POST"):
        "password_reset reads request.POST and always answers success (no account "
        "enumeration).",
    ("grades.unsubscribe_from_course_goal", "POST"):
        "upstream's unsubscribe_from_course_goal_by_token reads no body: the token in the "
        "path is the whole request.",
    ("grades.xblock_handler", "POST"):
        "the row calls capa's problem_get, which reads no field (capa ignores fields that "
        "are not its inputs) and stores nothing.",
    ("grades.xblock_handler_suffix", "POST"):
        "the row calls capa's xmodule_handler/problem_get, which reads no field and "
        "stores nothing.",
    ("experiments.data_detail", "DELETE"): "DRF's destroy reads no body.",
    ("bookmarks.bookmark", "DELETE"): "BookmarksDetailView.delete reads no body: it deletes "
                                      "the bookmark named in the path.",
    ("discussion.thread", "DELETE"): "ThreadViewSet.destroy reads no body: it deletes the "
                                     "thread in the path.",
    ("discussion.comment", "DELETE"): "CommentViewSet.destroy reads no body: it deletes the "
                                      "comment in the path.",
    ("teams.team", "DELETE"): "TeamsDetailView.delete reads no body: it deletes the team "
                              "in the path.",
    ("teams.membership", "DELETE"): "MembershipDetailView.delete reads no body: it removes "
                                    "the member named in the path.",
    ("experiments.key_value_detail", "DELETE"): "DRF's destroy reads no body.",
    ("accounts.preference_detail", "DELETE"): "PreferencesDetailView.delete reads no body.",
    ("enrollment.course_mode", "DELETE"): "CourseModesDetailView's destroy reads no body.",
    ("accounts.name_change_confirm", "POST"):
        "NameChangeView.confirm reads no body: it confirms the pending name change.",
    ("lms.set_language", "POST"):
        "Django's set_language reads request.POST (empty for any body that is not a form) "
        "and redirects; only a known `language` sets the cookie, nothing is stored.",
    ("lms.tracking_event", "POST"):
        "track.views.user_track reads request.POST (empty for any body that is not a "
        "form) and answers 'success': it logs an 'unknown' event, in the tracking log, "
        "not the database.",
    ("enrollment.cohort_user", "DELETE"):
        "CohortUsers.delete reads no body: it removes the user named in the path.",
    ("enrollment.cohort_user", "POST"):
        "CohortUsers.post falls back to the username in the path when the body holds no "
        "`users` list (unknown keys ignored); the sample user is already a member.",
}

# Change rows whatever the body (a DELETE whose view reads none): counts not compared.
CHANGES_STATE_WITHOUT_BODY = {
    ("experiments.data_detail", "DELETE"): "deletes the row; DRF's destroy reads no body.",
    ("experiments.key_value_detail", "DELETE"): "deletes the row; DRF's destroy reads no body.",
    ("accounts.preference_detail", "DELETE"): "deletes the preference; reads no body.",
    ("enrollment.course_mode", "DELETE"): "deletes the mode; DRF's destroy reads no body.",
    ("accounts.name_change_confirm", "POST"): "applies the pending name change; reads no body.",
    ("lms.logout", "POST"): "ends the caller's session; reads no body.",
    ("enrollment.cohort_user", "DELETE"): "removes the member named in the path; reads no body.",
    ("bookmarks.bookmark", "DELETE"): "deletes the bookmark named in the path; reads no body.",
    ("discussion.thread", "DELETE"): "deletes the thread named in the path; reads no body.",
    ("discussion.comment", "DELETE"): "deletes the comment named in the path; reads no body.",
    ("teams.team", "DELETE"): "deletes the team named in the path; reads no body.",
    ("teams.membership", "DELETE"): "removes the member named in the path; reads no body.",
}

# Upstream answers these errors as plain text (Django's HttpResponseBadRequest).
NON_JSON_ERRORS = {
    ("accounts.password_change_request", "POST"):
        "password_change_request_handler: HttpResponseBadRequest('No email address "
        "provided.').",
    ("accounts.preferences_email_opt_in", "POST"):
        "update_email_opt_in: HttpResponseBadRequest('Missing POST parameters: ...').",
}

# Bodies (by their name in the corpus) an operation may accept, as upstream does;
# rows they store are not counted against it.
LONG_TEXT = "1 MB strings"
ACCEPTED_BODIES = {
    ("experiments.data_detail", "PATCH"): ({LONG_TEXT}, "ExperimentData.value is a TextField."),
    ("experiments.data_detail", "PUT"): ({LONG_TEXT}, "ExperimentData.value is a TextField."),
    ("experiments.data_list", "POST"): ({LONG_TEXT}, "ExperimentData.value is a TextField."),
    ("experiments.data_list", "PUT"): ({LONG_TEXT}, "ExperimentData.value is a TextField."),
    ("experiments.key_value_detail", "PATCH"):
        ({LONG_TEXT}, "ExperimentKeyValue.value is a TextField."),
    ("experiments.key_value_detail", "PUT"):
        ({LONG_TEXT}, "ExperimentKeyValue.value is a TextField."),
    ("experiments.key_value_list", "POST"):
        ({LONG_TEXT}, "ExperimentKeyValue.value is a TextField."),
    ("accounts.preference_detail", "PUT"):
        ({LONG_TEXT, "a list for the body", "lists for the fields", "objects for the fields"},
         "the body is the value: upstream stores str() of whatever JSON it holds "
         "(views/preferences.py, stringified) in a TextField, at any length."),
    ("accounts.search_emails", "POST"):
        ({LONG_TEXT, "lists for the fields", "objects for the fields", "null for the fields"},
         "upstream filters email__in by whatever 'emails' holds: nothing matches, "
         "nothing is stored (upstream fails with a 500 on null; openlms answers [])."),
    ("grades.gradebook_bulk_update", "POST"):
        ({"a list for the body"},
         "the body is a list of overrides: an empty one has no failing item, so upstream "
         "answers 202 [] and stores nothing."),
    ("mobile.course_status_info", "PATCH"):
        ({"null for the fields"},
         "UserCourseStatus.patch reads last_visited_module_id and modification_date with "
         "request.data.get: null values are absent ones, so it answers the unchanged status."),
}


# -- contract fuzzing (test_contract.py) ---------------------------------------------
# ``{(METHOD, path): {check name: reason}}``: checks not run for an operation.

CSRF_PAGE = ("a Django (not DRF) view upstream: CsrfViewMiddleware refuses a write "
             "without the CSRF cookie with its HTML 403 page")

# The project's own document (lms/openapi.py).
OWN = {
    ("POST", "/account/password"): {"json_error_body": CSRF_PAGE},
    ("POST", "/logout"): {"json_error_body": CSRF_PAGE},
    ("POST", "/event"): {"json_error_body": CSRF_PAGE},
    ("POST", "/i18n/setlang/"): {"json_error_body": CSRF_PAGE},
    ("POST", "/password_reset_confirm/{uidb36}-{token}/"): {"json_error_body": CSRF_PAGE},
    **{("GET", path): {"response_schema_conformance":
                       "EnrollmentView answers Response(None) when there is no enrollment: "
                       "200, application/json, an empty body (not JSON)"}
       for path in ("/api/enrollment/v1/enrollment/{course_id}",
                    "/api/enrollment/v1/enrollment/{username},{course_id}")},
}

# Upstream's contract (../shared/spec/lms-openapi.yaml, paths under its basePath).
UPSTREAM = {
    ("GET", "/courses/v1/courses/"): {
        "response_schema_conformance":
            "the document shows DRF's default page {count, next, previous, results}; "
            "CourseListView pages with edx-drf-extensions' NamespacedPageNumberPagination: "
            "{results, pagination: {count, next, previous, num_pages}}"},
    **{("GET", path): {
        "response_schema_conformance":
            "CourseView answers api.get_course's dict (has_moderation_privileges, is_group_ta, "
            "is_user_admin, ...); the document's CourseMetadataSerailizer, used for docs "
            "only, requires a user_is_privileged the code never sends"}
       for path in ("/discussion/v1/courses/{course_id}", "/discussion/v2/courses/{course_id}")},
    ("GET", "/discussion/v2/course_topics/{course_id}"): {
        "response_schema_conformance":
            "CourseTopicsViewV2 answers get_course_topics_v2's list "
            "(DiscussionTopicSerializerV2(many=True)); the document gives one object"},
    ("PATCH", "/user_tours/v1/{username}"): {
        "response_schema_conformance":
            "UserTourView.patch answers a bare Response(status=200) with no body; the "
            "document gives it the UserTour serializer's schema"},
}

# Corrections applied to upstream's document before fuzzing, where the real Open edX
# answer differs from what drf-yasg generated: ``(pointer, changes, reason)``; the
# pointer is a "/"-separated path into the document, ``changes`` are merged into the
# schema found there. Everything else in the answer is still validated.
NULLABLE = {"x-nullable": True}
_COURSE_NULLS = ("CourseDetail's fields are null for a course that does not set them "
                 "(CourseDetailSerializer reads them from the course overview as they are)")
UPSTREAM_CORRECTIONS = [
    *[(f"definitions/CourseDetail/properties/{name}", NULLABLE, _COURSE_NULLS)
      for name in ("start", "end", "enrollment_start", "enrollment_end", "effort",
                   "short_description", "overview", "start_display", "pacing",
                   "course_image_url", "invitation_only", "certificate_available_date")],
    *[(f"definitions/{definition}/properties/{name}", NULLABLE, _COURSE_NULLS)
      for definition in ("CourseDetail", "Course") for name in (
          "start", "end", "enrollment_start", "enrollment_end", "start_display")],
    ("definitions/CourseDeadlinesMobile/properties/dates_banner_info", {"type": "object"},
     "CourseDeadlinesMobileSerializer.dates_banner_info is a SerializerMethodField "
     "(drf-yasg says string) returning get_dates_banner_info's dict"),
    # course_home (lms/djangoapps/course_home_api/*/serializers.py): drf-yasg documents
    # every SerializerMethodField as a string and no field as nullable.
    *[(f"definitions/{pointer}", NULLABLE,
       "the course_home serializers answer None for it when the course, learner or "
       "enrollment has none (upstream's views pass None)")
      for pointer in (
          "CertificateData", "CourseBlock", "CourseGoals/properties/selected_goal",
          "CourseGrade/properties/letter_grade", "CourseHomeMetadata/properties/user_timezone",
          "CourseHomeMetadata/properties/username", "CourseHomeMetadata/properties/verified_mode",
          "DateSummary/properties/assignment_type", "DateSummary/properties/extra_info",
          "DateSummary/properties/first_component_block_id",
          "DatesTab/properties/user_timezone", "DatesWidget/properties/user_timezone",
          "EnrollAlert/properties/extra_text", "OutlineTab/properties/access_expiration",
          "OutlineTab/properties/enrollment_mode", "OutlineTab/properties/handouts_html",
          "OutlineTab/properties/offer", "OutlineTab/properties/verified_mode",
          "OutlineTab/properties/welcome_message_html",
          "ProgressTab/properties/access_expiration",
          "ProgressTab/properties/credit_course_requirements", "ProgressTab/properties/end",
          "ProgressTab/properties/enrollment_mode", "ProgressTab/properties/studio_url",
          "ProgressTab/properties/verified_mode", "ResumeCourse/properties/url",
          "SubsectionScores/properties/assignment_type",
          "SubsectionScores/properties/override",
          "VerificationData/properties/link", "VerificationData/properties/status_date",
          "AssignmentTypeScores/properties/last_grade_publish_date")],
    *[(f"definitions/{pointer}", {"type": kind},
       "a SerializerMethodField (drf-yasg says string) returning this type")
      for pointer, kind in (
          ("DateSummary/properties/learner_has_access", "boolean"),
          ("SubsectionScores/properties/learner_has_access", "boolean"),
          ("SubsectionScores/properties/show_grades", "boolean"),
          ("SubsectionScores/properties/problem_scores", "array"),
          ("GradingPolicy/properties/assignment_policies", "array"),
          ("DatesTab/properties/dates_banner_info", "object"),
          ("OutlineTab/properties/dates_banner_info", "object"),
          ("CourseBlock/properties/blocks", "object"))],
    ("definitions/AssignmentTypeScores/properties/short_label", {"minLength": 0},
     "a GRADER entry without short_label (the default policy's Lab) has ''"),
    *[(f"definitions/{pointer}", {"minLength": 0},
       "DateSummary's description and link_text are '' when a date has none")
      for pointer in ("DateSummary/properties/description", "DateSummary/properties/link_text")],
    *[(f"definitions/{pointer}/additionalProperties", {"type": kind},
       "a dict of this value type upstream (celebration flags, counts, cutoffs)")
      for pointer, kind in (("CourseHomeMetadata/properties/celebrations", "boolean"),
                            ("ProgressTab/properties/completion_summary", "integer"),
                            ("GradingPolicy/properties/grade_range", "number"))],
    ("definitions/CourseHomeMetadata/properties/course_access/additionalProperties",
     {"type": None},
     "course_access is AccessResponse.to_json(): has_access a boolean, the messages "
     "strings or null"),
    ("definitions/_Media/properties/uri", NULLABLE,
     "a course without an image or video has a null media URI"),
    ("definitions/CourseDetail/properties/hidden", {"type": "boolean"},
     "`hidden` is a SerializerMethodField (drf-yasg says string); it returns a boolean"),
    ("definitions/IDVerificationDetails/properties/receipt_id", NULLABLE,
     "manual and SSO verifications have no receipt id: IDVerificationDetails answers null"),
    *[(f"definitions/course_modes.CourseMode/properties/{name}", NULLABLE,
       "CourseModeSerializer shows the model's null columns as null (upstream's own tests "
       "expect None for an unset expiration, description and SKUs)")
      for name in ("expiration_datetime", "description", "sku", "bulk_sku")],
]
