"""Hook specifications of the openlms core.

Every hook is prefixed ``lms_``. A plugin implements the ones it needs as
module-level functions decorated with :data:`hookimpl`. The plugin author's
guide (``docs/plugins.md``) documents each of them with an example; a test
checks that no hookspec is left undocumented.
"""
import pluggy

PROJECT = "lms"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(historic=True)
def lms_addhooks(pluginmanager):
    """Let a plugin publish hook specifications of its own.

    Called once for every plugin as it is registered, before any other hook.
    Call ``pluginmanager.add_hookspecs(module)``.
    """


@hookspec
def lms_default_settings():
    """Return a dict of this plugin's setting defaults.

    Keys must start with the plugin's name and a dot (``experiments.page_size``).
    Two plugins declaring the same key is a start-up error. Values are strings,
    as they would be in the ``.ini``; the environment may override them.
    """


@hookspec
def lms_includeme(config):
    """Add the plugin's Pyramid configuration: Cornice services, views, subscribers.

    The core calls each enabled plugin's implementation through
    ``config.include``, in dependency order, so relative dotted names
    (``config.scan(".views")``) resolve against the plugin's package.
    """


@hookspec
def lms_feature_toggles(settings):
    """Return a list of feature toggles this plugin contributes.

    Each item is a dict: ``{"name": str, "type": "waffle_flag" | "waffle_switch"
    | "setting_toggle", "is_active": bool, "note": str}``.
    """


@hookspec
def lms_retire_user(dbsession, user, retired_username, retired_email, original_email):
    """Scrub this plugin's personal data about ``user`` (retirement pipeline).

    ``user`` is the core :class:`lms.models.User` row before it is renamed.
    ``original_email`` is the address the person used: by now ``user.email`` may
    already hold a placeholder (``deactivate_logout`` replaces it), so rows kept by
    email (invitations, pre-assignments) must be found with ``original_email``.
    Runs inside the request transaction: raise to abort the whole retirement.
    """


@hookspec
def lms_user_created(dbsession, user):
    """A user account was created (registration, CLI, JWT get-or-create)."""


@hookspec
def lms_user_deactivated(dbsession, user):
    """A user account was deactivated (``is_active`` set to false)."""


@hookspec
def lms_enrollment_changed(dbsession, user_id, course_key, mode, is_active):
    """An enrollment was created or its mode/active flag changed."""


@hookspec
def lms_celery_setup(celery_app):
    """Configure the Celery app: register task modules, beat schedules."""


@hookspec
def lms_heartbeat_checks(request):
    """Return a dict ``{component: (ok: bool, message: str)}`` for ``/heartbeat``."""


# -- look-ups answered by the plugin that owns the data -------------------------
# Callers pass a ``dbsession`` (the request's, or a task's) and get plain dicts,
# never another plugin's model objects. With no plugin answering, the course or
# enrollment does not exist.

@hookspec(firstresult=True)
def lms_get_course(dbsession, course_key):
    """Describe the course run ``course_key`` (a ``CourseKey``), or return None.

    Answered by the plugin that owns courses. The dict has these keys
    (datetimes are timezone-aware; unknown values are None):

    - ``id``: the course key as a string;
    - ``display_name``: the name shown to learners;
    - ``org``: the organisation short name;
    - ``start``, ``end``: when the course runs (``start`` None: not scheduled);
    - ``enrollment_start``, ``enrollment_end``: the enrollment window;
    - ``self_paced``: bool (``pacing`` "self" or "instructor" in the course API);
    - ``cosmetic_display_price``: int, the marketing price shown when no paid
      verified mode has a price (0: free);
    - ``modes``: a list of course modes (seats), each a dict with ``slug``
      (``audit``, ``verified``, ``professional``, ...), ``min_price`` (int),
      ``currency`` (lower-case ISO code, e.g. ``usd``), ``sku`` (str or None)
      and ``expiration_datetime`` (the upgrade deadline, or None); the courses
      plugin takes them from :func:`lms_course_modes` (``[]`` when no plugin answers).

    Example::

        @hookimpl
        def lms_get_course(dbsession, course_key):
            row = dbsession.get(CourseRun, str(course_key))
            return None if row is None else row.as_dict()
    """


@hookspec(firstresult=True)
def lms_get_enrollment(dbsession, user_id, course_key):
    """Describe user ``user_id``'s enrollment in ``course_key``, or return None.

    Answered by the plugin that owns enrollments, for active and inactive
    enrollments alike. The dict has these keys:

    - ``mode``: the enrollment mode slug (``audit``, ``verified``, ...);
    - ``is_active``: bool;
    - ``created``: when the learner enrolled (aware datetime);
    - ``upgrade_deadline``: until when this learner may still upgrade to a
      verified seat (Open edX ``CourseEnrollment.upgrade_deadline``: None when
      the mode cannot be upgraded or a personal deadline has passed; else the
      personal schedule's deadline or the verified mode's expiration);
    - ``schedule_start``: the start of the learner's personal schedule, or None;
    - ``course_duration``: a ``timedelta`` an audit learner may access the
      course for (course duration limits), or None when no limit applies;
    - ``audit_access_deadline``: when that access ends, or None.

    Missing optional keys (all but the first three) count as None.
    """


@hookspec
def lms_has_non_audit_enrollments(dbsession, user_id):
    """Return True when the user paid for something: an enrollment in any course
    whose mode is not ``audit``/``honor`` (active or not), or a course entitlement.

    Every answer is collected; one True is enough (enrollments and entitlements
    may live in different plugins). Return False or None otherwise.
    """


@hookspec
def lms_enrollment_orgs(dbsession, user_id):
    """Return the orgs of every course the user is or was enrolled in (active or not).

    Answered by the plugin that owns enrollments; every answer is merged. The
    retirement pipeline reports retired learners to these orgs (upstream's
    partner report). With no answer the learner has no orgs.
    """


@hookspec
def lms_cli_commands():
    """Return a list of ``click`` commands this plugin adds to the ``lms`` command.

    Only enabled plugins' commands are offered. A command receives the
    instance with ``@lms.cli.pass_environment`` (``environment.registry``,
    ``environment.session()``); names must not clash with core commands.
    """


@hookspec
def lms_service_accounts(registry):
    """Return ``{service: username}``: the accounts this plugin's endpoints trust by name.

    A service account is global staff with an unusable password, so it acts only
    through OAuth clients made for it and never logs in. ``lms bootstrap``
    creates missing ones; ``lms create-oauth-client NAME --service SERVICE``
    creates one (if missing) and a client for it. The plugin must still check,
    on each request, that the account is active staff: a name alone grants nothing.
    """


@hookspec
def lms_bootstrap(registry, dbsession, echo, sample_course):
    """Prepare a new instance (``lms bootstrap``, run by ``make run``).

    Called after migrations and the admin account exist, inside one
    transaction; must be idempotent (later runs change nothing). ``echo(text)``
    prints a line for the operator. ``sample_course`` is true when the operator
    asked for sample content (``--sample-course``, ``lms.bootstrap_sample_course``):
    import demo data only then.
    """


@hookspec
def lms_user_partition_groups(dbsession, user_id, course_key):
    """Return ``{partition_id: group_id}`` memberships of the user in the course.

    Cohorts, enrollment tracks and other partition schemes answer here; every
    answer is merged. Content restricted with ``group_access`` to a partition
    the user has no group in is hidden from them. Random-scheme partitions
    (``split_test``) need no answer: the courses plugin assigns those itself.
    """


@hookspec
def lms_users_partition_groups(dbsession, user_ids, course_key):
    """Batch form of :func:`lms_user_partition_groups` for work over many learners
    (grading a course): return ``{user_id: {partition_id: group_id}}`` for the users of
    ``user_ids`` that have groups, in a fixed number of queries. It reads, never places:
    a learner not yet in a cohort has no group. A plugin answering
    ``lms_user_partition_groups`` answers this too; every answer is merged.
    """


@hookspec(firstresult=True)
def lms_block_completions(dbsession, user_id, course_key):
    """Return ``{usage_key_string: completion}`` (0.0 to 1.0) for the user, or None.

    Answered by the plugin that records completion. ``None`` means no
    completion source exists, so course APIs leave completion fields out.
    """


@hookspec(firstresult=True)
def lms_resume_block(dbsession, user_id, course_key):
    """Return the usage key string the learner should resume at, or None.

    Open edX resumes at the most recently completed block.
    """


@hookspec
def lms_username_replaced(dbsession, user_id, old_username, new_username):
    """User ``user_id`` was renamed from ``old_username`` to ``new_username``.

    Called by the accounts plugin's ``replace_usernames`` endpoint for each
    replacement, inside its transaction, after the core user row is renamed.
    A plugin that stores usernames (rather than user ids) updates its rows
    here; raise to make the replacement count as failed (it is rolled back).
    """


@hookspec(firstresult=True)
def lms_identity_retired(dbsession, settings, username, email):
    """Return True when ``username`` or ``email`` belonged to a retired account.

    The core asks before creating a user from a JWT it has never seen (as
    edx-drf-extensions does), so a token that outlived its retired owner
    cannot bring the person's identity back. ``settings`` are the app's
    settings (retirement salts live there). Answered by the plugin that owns
    retirement; no answer means "not retired".
    """


@hookspec(firstresult=True)
def lms_get_enrollments(dbsession, user_id, course_keys):
    """Batch form of :func:`lms_get_enrollment` for list endpoints.

    Return ``{course_key_string: enrollment dict or None}`` for every key in
    ``course_keys`` (CourseKeys), in one query, or None when not implemented
    (callers then ask ``lms_get_enrollment`` per course). The plugin that owns
    enrollments should answer both, so lists keep a fixed number of queries.
    """


@hookspec(firstresult=True)
def lms_course_modes(dbsession, course_keys):
    """Return the course modes (seats) of each course, or None when not implemented.

    Answered by the plugin that owns course modes, for ``course_keys`` (CourseKeys)
    at once, in a fixed number of queries: ``{course_key_string: [mode dict, ...]}``
    with an entry for every key. Each mode dict has the keys ``lms_get_course``
    documents for its ``modes`` (``slug``, ``min_price``, ``currency``, ``sku``,
    ``expiration_datetime``) plus ``name``, ``description``, ``bulk_sku``,
    ``android_sku`` and ``ios_sku``. Expired modes are included (callers compare
    ``expiration_datetime`` with now); a course without any mode answers Open edX's
    default mode (``audit``, free), as ``CourseMode.all_modes_for_courses`` does.
    The courses plugin fills ``lms_get_course``'s ``modes`` from it.
    """


@hookspec(firstresult=True)
def lms_video_data(dbsession, course_key, edx_video_ids):
    """Return ``{edx_video_id: {"duration": seconds, "encoded_videos": {profile: {"url",
    "file_size"}}}}`` for the videos among ``edx_video_ids`` that a video pipeline knows
    (upstream's edx-val), or None when no plugin keeps videos. Answered in a fixed number
    of queries; the courses plugin asks once per blocks response and, for a video block
    with an ``edx_video_id`` found here, shows these encodings in ``student_view_data``
    (otherwise the block's own sources, as upstream does without edx-val).
    """


@hookspec(firstresult=True)
def lms_downloadable_certificates(dbsession, user_id, course_keys):
    """Return ``{course_key_string: download path}`` for the courses of ``course_keys``
    (strings) in which the user has a certificate they may download now, or None when
    no plugin keeps certificates. Answered by the plugin that issues certificates, in a
    fixed number of queries; courses without one are left out. Mobile enrollment lists
    turn the path into their ``certificate`` field.
    """


@hookspec
def lms_report_score(dbsession, user_id, course_key, usage_key, earned, possible, source,
                     actor_id, reason):
    """A learner's score on one block, from any source: an LTI tool's AGS result, staff
    grading, a proctoring review. ``course_key`` and ``usage_key`` are strings,
    ``earned``/``possible`` raw points (floats, ``possible`` > 0), ``source`` a short
    name of the reporter (``"lti"``, ``"proctoring"``...), ``actor_id`` the user who
    caused it (None for a machine) and ``reason`` free text kept in the score history.

    Called inside the reporter's transaction; the plugin that keeps grades stores the
    score with its history and updates the learner's grades after commit. Nobody
    answering (grades switched off) drops the score.
    """


@hookspec
def lms_course_published(dbsession, course_key, version):
    """A new version of a course (``course_key`` string) became its published content:
    an import or re-import. Called inside the importing transaction, after the blocks
    and the course overview (grading policy included) are stored. Plugins that derive
    data from the content (course grades) schedule their refresh after commit.
    """


@hookspec
def lms_permission_matrix():
    """Return this plugin's permission matrix: an :class:`lms.matrix.PluginMatrix`
    (or a plain list of :class:`lms.matrix.Row`).

    One row per served operation (each method of each service or route): how
    to fill its path, query and body, and the answer class expected for each
    role of :data:`lms.matrix.ROLES`. ``lms.testing``'s ``test_permission_matrix``
    calls every operation as every role; an operation without a row fails.
    """


# -- the benchmark harness (make bench, bench/harness.py) ------------------------

@hookspec
def lms_bench_dataset(dataset):
    """Add this plugin's rows to the benchmark dataset (``make bench``).

    Called once per step of the dataset (the large size: 1,000, then 100,000,
    then 1,000,000 users), after the harness inserted the step's users, whose
    ids run from ``dataset.first_user_id`` to ``dataset.last_user_id``. Insert
    this plugin's data for them with ``dataset.insert(model, columns, rows)``
    (rows are tuples in ``columns`` order; bulk: COPY on PostgreSQL) or through
    ``dataset.dbsession``; the harness commits. One-off data (a course) is added
    when missing. Draw every random choice from ``dataset.rng`` (a
    ``random.Random`` seeded by the harness): the same seed gives the same data.
    Also there: ``dataset.users`` (the users so far, this step's included),
    ``dataset.registry`` (the app's), ``dataset.size`` (``"small"`` or
    ``"large"``), ``dataset.now`` (a fixed datetime for timestamps),
    ``dataset.learner_id`` (the benchmark learner, enrolled in every course) and
    ``dataset.staff_id`` (global staff).
    """


@hookspec
def lms_bench_scenarios(size):
    """Return the requests the benchmark harness measures for this plugin: a list of dicts.

    - ``name``: unique, shown in the report; ``path``: ``{username}`` is the
      benchmark learner's;
    - ``auth``: ``"learner"`` or ``"staff"`` (a JWT), ``"api_key"``
      (``X-Edx-Api-Key``) or None (anonymous);
    - ``hot``: true for an endpoint clients call all the time: served by gunicorn
      under load (latency, throughput, SQL statements per request);
    - ``rows``: for a list, ``rows(users)`` is how many rows it holds with that many
      users: timed at each step, page 1 and a middle page (pages of 10);
      ``middle(rows)`` gives the middle page's ``(number, query parameters)`` when
      it is not ``?page=`` (a cursor), None for a list answered whole (page 1 only);
    - ``method`` (``"POST"``), ``form(n)`` (the n-th body; unique values) and
      ``status`` (expected, default 200): a write timed at the smallest and the
      largest step (``csrf``: true to send a CSRF token first);
    - ``settings``: settings the scenario needs in the benchmark app.
    """
