"""The permission matrix: who may call each served operation, checked in CI.

Every served operation (each HTTP method of each Cornice service, and of each
hand-written route) has a :class:`Row`: how to fill its path, query and body
from a shared *world* of users and objects, and the answer class expected for
each :data:`ROLES` caller. Plugins contribute their rows through the
``lms_permission_matrix`` hook (usually from a ``permission_matrix.py`` next to
their views); the core contributes rows for its own routes (:data:`CORE_ROWS`).

``lms.testing`` turns this into one test per operation (see
``test_permission_matrix`` there): it builds the world, calls the operation
as every role, compares each answer's status with the row, and scans every
answer given to someone not entitled (any 4xx, and anything answered to an
anonymous caller) for the private values planted in the world: other users'
emails and full names, and whatever the plugins plant (grades, preferences...).
An operation without a row fails, so a new endpoint cannot ship unreviewed.
An alias (:meth:`lms.service.Service.alias`) inherits its target's rows: it
answers as its target does, so it is checked without rows of its own.

Values in ``path``, ``query`` and ``body`` are format strings over the world's
values (``"{learner}"``, ``"{course_key}"``), or a callable ``f(world) ->
dict`` run for each cell (``world.role`` is the caller), which may create a
fresh target object so that a destructive call never spoils the next cell.
"""
import dataclasses
import json
from dataclasses import dataclass, field

from lms.openapi import enabled_services, split_path_template

ROLES = (
    "anonymous",       # no credentials at all
    "learner",         # the owner: paths name this user ("{learner}")
    "other_learner",   # an unprivileged user who is not the owner
    "course_staff",    # "staff" role on the world's course ("{course_key}")
    "global_staff",    # is_staff
    "superuser",       # is_staff and is_superuser
    "restricted_jwt",  # the learner's JWT minted for a restricted application
    "service_user",    # the staff account the plugins designate as a service identity
)

# Answer classes and the statuses each covers.
CLASSES = {
    "ok": range(200, 300),
    "redirect": range(300, 400),
    "invalid": (400,),          # authorised, but the sample input is refused
    "unauthenticated": (401,),
    "forbidden": (403,),
    "hidden": (404,),
    "not_allowed": (405,),
    "conflict": (409,),
    "unsupported": (415,),
    "unavailable": (503,),
}

# Usernames of the world's users (the service user's name is what plugins put
# in their service-identity setting through ``PluginMatrix.settings``).
SERVICE_USERNAME = "matrix_service_worker"
USERNAMES = {
    "learner": "matrix_learner",
    "other_learner": "matrix_other",
    "course_staff": "matrix_course_staff",
    "global_staff": "matrix_staff",
    "superuser": "matrix_admin",
    "service_user": SERVICE_USERNAME,
}
# Distinctive full names: found in a body, they can only come from the database.
FULL_NAMES = {
    "learner": "Ottoline Quillfeather",
    "other_learner": "Bartholomew Zephyrine",
    "course_staff": "Clementine Vasquez-Orr",
    "global_staff": "Gwendolyn Staffordshire",
    "superuser": "Augustin Pemberton-Root",
    "service_user": "Seraphina Workwright",
}
PASSWORD = "matrix-Pa55word"
COURSE_KEY = "course-v1:MatrixX+PM101+2026_T1"
COURSE_ORG = "MatrixX"


def user_email(role):
    return f"{USERNAMES[role]}.private@matrix-mail.example"


# Shorthands for ``expect``: start from one and override single roles.
EVERYONE = {"*": "ok"}
AUTHENTICATED = {"*": "ok", "anonymous": "unauthenticated", "restricted_jwt": "forbidden"}
OWNER_OR_STAFF = {**AUTHENTICATED, "other_learner": "forbidden", "course_staff": "forbidden"}
STAFF_ONLY = {**AUTHENTICATED, "learner": "forbidden", "other_learner": "forbidden",
              "course_staff": "forbidden"}
SUPERUSER_ONLY = {**STAFF_ONLY, "global_staff": "forbidden", "service_user": "forbidden"}


def every_signed_in(answer_class):
    """``AUTHENTICATED`` with one class for every signed-in caller but the restricted
    application (a 404 every user gets, a 405 past authentication...)."""
    signed_in = [role for role in ROLES if role not in ("anonymous", "restricted_jwt")]
    return {**AUTHENTICATED, **{role: answer_class for role in signed_in}}


@dataclass(frozen=True)
class Row:
    """The expected answers of one operation.

    - ``route``: the Cornice service name (its route name) or the route name;
    - ``method``: the HTTP method;
    - ``expect``: ``{role: class}``; the key ``"*"`` gives the default;
    - ``path``, ``query``, ``body``: dicts (format strings over the world's
      values) or callables ``f(world) -> dict``; the body is sent as JSON,
      or form-encoded with ``form=True``;
    - ``content_type``: send the JSON body with this media type instead
      (``application/merge-patch+json``);
    - ``upload``: ``[(field, filename, bytes)]`` sent as multipart with the body;
    - ``headers``: extra request headers (format strings too);
    - ``scan``: roles whose successful answers are scanned for private data too
      (anonymous answers always are, and every 4xx): those who get a cut-down
      view, such as another learner reading a profile;
    - ``session``: callers use a browser session (with its CSRF token) even
      where the service also takes a JWT (the default is the JWT wherever the
      service accepts one; the restricted role always sends its JWT);
    - ``deviations``: ``{role: (observed class, reason)}`` for cells where
      this server knowingly differs from upstream (the expected class is
      still accepted, so a fix does not break the test);
    - ``isolated``: rebuild the world before every cell (for calls whose
      success changes the callers themselves);
    - ``note``: why the rule is what it is (upstream's permission classes).
    """

    route: str
    method: str
    expect: dict
    path: object = None
    query: object = None
    body: object = None
    form: bool = False
    content_type: str = ""
    upload: object = None
    session: bool = False
    scan: tuple = ()
    headers: dict = field(default_factory=dict)
    deviations: dict = field(default_factory=dict)
    isolated: bool = False
    note: str = ""

    @property
    def key(self):
        return (self.route, self.method)

    def expected(self, role):
        expect = self.expect
        if role in expect:
            return expect[role]
        if "*" in expect:
            return expect["*"]
        raise KeyError(f"{self.method} {self.route}: no expected class for {role!r} "
                       "(give it, or a '*' default)")

    def accepted(self, role):
        """The classes accepted for ``role``: expected, plus a known deviation."""
        classes = {self.expected(role)}
        if role in self.deviations:
            classes.add(self.deviations[role][0])
        return classes


@dataclass
class PluginMatrix:
    """What a plugin's ``lms_permission_matrix`` returns.

    - ``rows``: its :class:`Row` objects;
    - ``setup``: ``f(world)`` adding the plugin's objects to the world (store
      values with ``world.values[...]``, plant private data with
      ``world.plant(role, value)``); runs after the users exist;
    - ``settings``: settings the test app needs (e.g. the service identity).
    """

    rows: list
    setup: object = None
    settings: dict = field(default_factory=dict)


def matrix_of_areas(package, areas):
    """A :class:`PluginMatrix` made of a package's area modules (``<package>.<area>``),
    each offering ``ROWS`` and, if it needs them, ``setup(world)`` (run in ``areas``
    order) and ``SETTINGS``: for plugins whose endpoints fall into several families."""
    import importlib

    modules = [importlib.import_module(f"{package}.{area}") for area in areas]

    def setup(world):
        for module in modules:
            if hasattr(module, "setup"):
                module.setup(world)

    settings = {}
    for module in modules:
        settings.update(getattr(module, "SETTINGS", {}))
    return PluginMatrix(rows=[row for module in modules for row in module.ROWS],
                        setup=setup, settings=settings)


# -- the world -------------------------------------------------------------------

class World:
    """The users and objects every cell runs against (one per test)."""

    def __init__(self, db, registry):
        self.db = db
        self.registry = registry
        self.users = {}
        self.values = {"course_key": COURSE_KEY, "org": COURSE_ORG, "password": PASSWORD}
        self.private = {}
        self.role = None
        self.serial = 0

    def plant(self, owner, value):
        """Record ``value`` as private to ``owner`` (a role): others must never see it."""
        self.private.setdefault(owner, set()).add(str(value))

    def user(self, role):
        """The user a role acts as (the restricted JWT acts for the learner)."""
        return self.users.get("learner" if role == "restricted_jwt" else role)

    def new_user(self, prefix, **kw):
        """A throwaway user (a fresh target for one cell), committed; its email and
        name are planted as private to ``prefix``."""
        from lms.users import create_user

        username = f"{prefix}_{self.role or 'setup'}"
        self.serial += 1
        username = f"{username}_{self.serial}"
        name = kw.pop("name", f"Throwaway Person No{self.serial}x")
        user = create_user(self.db, username=username, email=f"{username}@matrix-mail.example",
                           password=PASSWORD, name=name, pm=self.registry["lms.plugin_manager"],
                           **kw)
        self.plant(prefix, user.email)
        self.plant(prefix, user.name)
        self.db.commit()
        return user

    def format(self, value):
        if isinstance(value, str):
            return value.format_map(self.values)
        if isinstance(value, dict):
            return {k: self.format(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.format(v) for v in value]
        return value

    def resolve(self, spec):
        if spec is None:
            return None
        return self.format(spec(self) if callable(spec) else spec)

    def forbidden_values(self, role):
        """Private values of every user but the caller."""
        own = "learner" if role == "restricted_jwt" else role
        found = set()
        for owner, values in self.private.items():
            if owner != own:
                found |= values
        return found


def build_world(registry, db, contributions):
    from lms.keys import parse_course_key
    from lms.permissions import grant_role
    from lms.users import create_user

    world = World(db, registry)
    for role, username in USERNAMES.items():
        user = create_user(
            db, username=username, email=user_email(role), password=PASSWORD,
            name=FULL_NAMES[role], is_staff=role in ("global_staff", "superuser", "service_user"),
            is_superuser=role == "superuser", pm=registry["lms.plugin_manager"])
        world.users[role] = user
        world.values[role] = username
        world.values[f"{role}_id"] = user.id
        world.values[f"{role}_email"] = user.email
        world.plant(role, user.email)
        world.plant(role, FULL_NAMES[role])
    db.flush()
    grant_role(db, world.users["course_staff"], "staff", parse_course_key(COURSE_KEY))
    for contribution in contributions:
        if contribution.setup is not None:
            contribution.setup(world)
            db.flush()
    db.commit()
    return world


# -- collecting operations and rows ------------------------------------------------

def served_operations(registry):
    """Sorted ``(route name, method)`` of every operation this app serves:
    each Cornice service's methods, and each other route's views (static
    file views excepted). HEAD and OPTIONS follow GET and CORS rules."""
    from pyramid.interfaces import IRoutesMapper

    found = set()
    services = enabled_services(registry)
    cornice_routes = {service.name for service in services}
    for service in services:
        for method in service.defined_methods:
            if method not in ("HEAD", "OPTIONS"):
                found.add((service.name, method))
    mapper = registry.queryUtility(IRoutesMapper)
    routes = {route.name: route for route in mapper.get_routes()} if mapper else {}
    for view in registry.introspector.get_category("views"):
        view = view["introspectable"]
        name = view["route_name"]
        if not name or name in cornice_routes or name not in routes:
            continue
        if routes[name].pattern.endswith("*subpath"):
            continue  # static files
        methods = view["request_methods"]
        if methods is None:
            methods = ("GET", "POST")
        elif isinstance(methods, str):
            methods = (methods,)
        for method in methods:
            if method not in ("HEAD", "OPTIONS"):
                found.add((name, method))
    return sorted(found)


def alias_targets(registry):
    """``{alias route: target route}`` of the served aliases (``Service.alias``)."""
    return {service.name: service.alias_of for service in enabled_services(registry)
            if getattr(service, "alias_of", None)}


def inherited_rows(registry, contributed):
    """A row for each operation of an alias, copied from its target's row (an alias
    serves the same views); a row the alias's owner gives itself wins."""
    given = rows_by_operation(contributed)
    rows = []
    for alias, target in sorted(alias_targets(registry).items()):
        for (route, method), row in sorted(given.items()):
            if route == target and (alias, method) not in given:
                rows.append(dataclasses.replace(row, route=alias))
    return rows


def contributions(registry):
    """The core's matrix, every enabled plugin's ``lms_permission_matrix`` answer, and
    the rows the aliases inherit."""
    found = [PluginMatrix(rows=list(CORE_ROWS))]
    for answer in registry["lms.plugin_manager"].hook.lms_permission_matrix():
        if answer is None:
            continue
        if not isinstance(answer, PluginMatrix):
            answer = PluginMatrix(rows=list(answer))
        found.append(answer)
    found.append(PluginMatrix(rows=inherited_rows(registry, found)))
    return found


def app_with_matrix_settings(make_app, settings):
    """``(app, contributions)``: ``make_app(settings)`` rebuilt with the settings the
    plugins' matrices ask for (e.g. who the service user is)."""
    app = make_app(settings)
    contributed = contributions(app.registry)
    extra = {}
    for contribution in contributed:
        extra.update(contribution.settings)
    if extra:
        app = make_app(dict(settings, **extra))
        contributed = contributions(app.registry)
    return app, contributed


def operation_auth_classes(registry, route):
    """The authentication classes of the service named ``route`` (none for a plain route)."""
    services = {service.name: service for service in enabled_services(registry)}
    return getattr(services.get(route), "auth_classes", ())


def rows_by_operation(contributed):
    rows = {}
    for contribution in contributed:
        for row in contribution.rows:
            if row.key in rows:
                raise ValueError(f"two permission matrix rows for {row.method} {row.route}")
            for role in list(row.expect) + list(row.deviations):
                if role != "*" and role not in ROLES:
                    raise ValueError(f"{row.method} {row.route}: unknown role {role!r}")
            for role in ROLES:
                for name in row.accepted(role):
                    if name not in CLASSES:
                        raise ValueError(f"{row.method} {row.route}: unknown class {name!r}")
            rows[row.key] = row
    return rows


def missing_rows(registry):
    """Served operations that no row describes."""
    rows = rows_by_operation(contributions(registry))
    return [op for op in served_operations(registry) if op not in rows]


def stale_rows(registry):
    """Rows that name no served operation (a renamed or removed endpoint)."""
    served = set(served_operations(registry))
    return sorted(key for key in rows_by_operation(contributions(registry)) if key not in served)


# -- building and checking one request -------------------------------------------------

def route_template(registry, name):
    """The path template of a route: a Cornice service's upstream path, or the pattern."""
    for service in enabled_services(registry):
        if service.name == name:
            return getattr(service, "spec_path", service.path)
    from pyramid.interfaces import IRoutesMapper

    route = registry.getUtility(IRoutesMapper).get_route(name)
    return route.pattern


def fill_path(template, values):
    """The template with each placeholder replaced by ``values[name]``."""
    from urllib.parse import quote

    url = ""
    for part in split_path_template(template):
        if isinstance(part, str):
            url += part
            continue
        name = part[0]
        if name == "trailing_slash":
            url += str(values.get(name, "/"))
            continue
        if name not in values:
            raise KeyError(f"{template}: the row gives no value for {{{name}}}")
        url += quote(str(values[name]), safe=":+@,.~-_ ")
    return url


def classify(status):
    for name, statuses in CLASSES.items():
        if status in statuses:
            return name
    return f"status {status}"


def leaked_values(body, forbidden):
    """The forbidden values found in ``body`` (case-insensitive)."""
    text = body.lower()
    return sorted(value for value in forbidden if value and value.lower() in text)


def describe(response):
    body = response.body[:300].decode("utf-8", "replace")
    return f"{response.status} {json.dumps(body)}"


# -- rows of the core's own routes ----------------------------------------------------------

CORE_ROWS = [
    Row("lms.home", "GET", EVERYONE,
        note="the landing page: name, version (public in the OpenAPI document), links"),
    Row("lms.dashboard", "GET", {"*": "redirect"},
        note="to the learner dashboard MFE or the landing page"),
    Row("lms.set_language", "GET", {"*": "redirect"}, headers={"Accept": "text/html"}),
    Row("lms.set_language", "POST", {"*": "redirect"}, session=True, body={"language": "fr"},
        form=True, note="Django's set_language: CSRF for everyone; 302 for an HTML caller"),
    Row("lms.heartbeat", "GET", EVERYONE, note="upstream heartbeat: AllowAny"),
    Row("lms.oauth.jwks", "GET", {"*": "hidden"},
        note="public signing keys; 404 while no asymmetric key is configured (as in tests)"),
    Row("lms.openapi.json", "GET", EVERYONE, note="the API description is public"),
    Row("lms.openapi.ui", "GET", EVERYONE),
    Row("lms.openapi.ui_redirect", "GET", {"*": "redirect"}),
    Row("lms.oauth.access_token", "GET", {"*": "not_allowed"},
        note="django-oauth-toolkit's TokenView is POST only"),
    Row("lms.oauth.access_token", "POST", {"*": "unauthenticated"},
        body={"grant_type": "client_credentials", "client_id": "no-such-client",
              "client_secret": "wrong"}, form=True,
        note="an unknown client is invalid_client (401) whoever calls"),
    Row("lms.oauth.revoke_token", "GET", {"*": "not_allowed"}),
    Row("lms.oauth.revoke_token", "POST", {"*": "unauthenticated"},
        body={"token": "not-a-token", "client_id": "no-such-client"}, form=True),
    Row("lms.operator.plugins", "GET", {**STAFF_ONLY, "restricted_jwt": "forbidden"},
        note="operator data: staff only (issue 7 item 8)"),
    # Session endpoints of the core (lms.session): anyone may sign in or out.
    Row("lms.csrf_token", "GET", EVERYONE, note="edx-django-utils CsrfTokenView: AllowAny"),
    Row("lms.login_session", "GET", EVERYONE, path={"api_version": "v1"}),
    Row("lms.login_session", "POST", EVERYONE, path={"api_version": "v1"}, form=True,
        body={"email": "{learner_email}", "password": "{password}"}),
    Row("lms.logout", "GET", {"*": "redirect"}, session=True),
    Row("lms.logout", "POST", {"*": "redirect"}, session=True),
    # Re-issues the JWT cookies of a browser session; nobody else has any.
    Row("lms.login_refresh", "POST",
        {"*": "ok", "anonymous": "unauthenticated", "restricted_jwt": "unauthenticated"},
        session=True),
    # Browser tracking events (lms.tracking): track.views.user_track is a plain Django
    # view open to everyone (POST behind Django's CSRF check, which every cell passes).
    Row("lms.tracking_event", "GET", EVERYONE,
        query={"event_type": "matrix.viewed", "event": '{{"n": 1}}',
               "page": "http://localhost:2000/course/{course_key}/home"}),
    Row("lms.tracking_event", "POST", EVERYONE, form=True,
        body={"event_type": "matrix.clicked", "event": '{{"n": 2}}',
              "page": "http://localhost:2000/course/{course_key}/home"}),
]
