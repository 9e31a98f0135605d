"""Organizations, ``/api/organizations/v0/organizations/`` (upstream edx-organizations).

- ``GET …/``: active organizations (DefaultPagination);
- ``GET …/{short_name}/``: one active organization;
- ``PUT …/{short_name}/``: global staff or superusers create or update an
  organization (always ending active; 200 in both cases);
- ``PATCH …/{short_name}/``: always 405 with an empty body.

Organizations also appear when a course is imported (``api.ensure_organization``).
``logo_url`` asks upstream to download the logo; openlms fetches nothing and
keeps the URL itself as the organization's ``logo``.
"""
from urllib.parse import urlparse

import colander
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms import pagination, permissions
from lms.auth import JWT, SESSION_STRICT
from lms.errors import APIError, field_errors, not_found
from lms.openapi import PAGE_QUERY, page_of
from lms.request import data_fields
from lms.schemas import DrfText, StrictMapping
from lms.service import Service, colander_body_validator
from lms.timeutil import isoformat
from plugins.courses import openapi_schemas as doc
from plugins.courses.models import Organization

# JwtAuthentication, then DRF's plain SessionAuthentication (inactive users refused).
ORGANIZATION_AUTH = (JWT, SESSION_STRICT)

organization_list = Service("courses.organization_list", "/api/organizations/v0/organizations/",
                            auth=ORGANIZATION_AUTH)
organization_detail = Service(
    "courses.organization_detail",
    "/api/organizations/v0/organizations/{short_name:[^/+]+}/",
    auth=ORGANIZATION_AUTH)

MAX_LENGTH = 255
ACTIVE_NOT_ALLOWED = "Value of 'active' may not be specified via Organizations HTTP API."
DUPLICATE_SHORT_NAME = "organization with this Short Name already exists."
DETAIL_METHODS = "GET, PUT, PATCH, HEAD, OPTIONS"


# -- body schema (DRF ModelSerializer of Organization) ---------------------------------------

def max_length(node, value):
    if value is not None and len(value) > MAX_LENGTH:
        raise colander.Invalid(node, f"Ensure this field has no more than {MAX_LENGTH} characters.")


def web_url(node, value):
    max_length(node, value)
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise colander.Invalid(node, "Enter a valid URL.")


class ReadOnly(colander.SchemaType):
    """A response field a client may send back; ignored, as DRF ignores it."""

    def deserialize(self, node, cstruct):
        return colander.drop


def read_only():
    return colander.SchemaNode(ReadOnly(), missing=colander.drop)


class OrganizationBody(StrictMapping):
    id = read_only()
    created = read_only()
    modified = read_only()
    name = colander.SchemaNode(DrfText(), validator=max_length,
                               missing_msg="This field is required.")
    short_name = colander.SchemaNode(DrfText(), validator=max_length,
                                     missing_msg="This field is required.")
    description = colander.SchemaNode(DrfText(allow_null=True, allow_blank=True),
                                      missing=colander.drop)
    logo = read_only()
    logo_url = colander.SchemaNode(DrfText(), validator=web_url, missing=colander.drop)
    # Browsers' form posts carry the CSRF token as a field (lms.auth.check_csrf).
    csrfmiddlewaretoken = read_only()


# -- helpers -----------------------------------------------------------------------------------

def serialize_organization(request, org):
    return {
        "id": org.id,
        "created": isoformat(org.created),
        "modified": isoformat(org.modified),
        "name": org.name,
        "short_name": org.short_name,
        "description": org.description,
        "logo": logo_url(request, org.logo),
        "active": bool(org.active),
    }


def logo_url(request, logo):
    """DRF ``ImageField``: an absolute URL, or None."""
    if not logo:
        return None
    if urlparse(logo).netloc:
        return logo
    return request.application_url + "/" + logo.lstrip("/")


def find(db, short_name, active_only):
    stmt = select(Organization).where(Organization.short_name == short_name)
    if active_only:
        stmt = stmt.where(Organization.active.is_(True))
    return db.scalar(stmt)


def staff_only(request, **kwargs):
    """``UserIsStaff``: only global staff and superusers may PUT."""
    user = request.user
    permissions.require(permissions.is_staff(user) or permissions.is_superuser(user))


def reject_active(request, **kwargs):
    """``active`` cannot be set through the API (checked before the body's fields)."""
    if "active" in data_fields(request):
        raise APIError(400, [ACTIVE_NOT_ALLOWED])


# -- views -------------------------------------------------------------------------------------

@organization_list.get(query=PAGE_QUERY,
                       responses={200: page_of(doc.ORGANIZATION), 404: "Invalid page."})
def get_organizations(request):
    """The active organizations."""
    stmt = select(Organization).where(Organization.active.is_(True)).order_by(Organization.id)
    return pagination.page_number(
        request, stmt, lambda rows: [serialize_organization(request, org) for org, in rows])


@organization_detail.get(responses={200: doc.ORGANIZATION})
def get_organization(request):
    """One active organization, by short name."""
    org = find(request.dbsession, request.matchdict["short_name"], active_only=True)
    if org is None:
        raise not_found()
    return serialize_organization(request, org)


@organization_detail.put(schema=OrganizationBody(),
                         validators=(staff_only, reject_active, colander_body_validator),
                         responses={200: doc.ORGANIZATION, 403: "Not global staff."})
def put_organization(request):
    """Update the organization named in the URL (active or not), else create one from the body.

    Global staff only.
    """
    db = request.dbsession
    data = request.validated
    org = find(db, request.matchdict["short_name"], active_only=False)
    duplicate = find(db, data["short_name"], active_only=False)
    if duplicate is not None and duplicate is not org:
        raise field_errors({"short_name": DUPLICATE_SHORT_NAME})
    try:
        with db.begin_nested():
            if org is None:
                org = Organization(description=None, logo=None)
                db.add(org)
            org.name = data["name"]
            org.short_name = data["short_name"]
            if "description" in data:
                org.description = data["description"]
            if "logo_url" in data:
                org.logo = data["logo_url"]
            org.active = True
            db.flush()
    except IntegrityError:  # a concurrent request took the short name first
        raise field_errors({"short_name": DUPLICATE_SHORT_NAME}) from None
    db.refresh(org)
    return serialize_organization(request, org)


@organization_detail.patch(responses={405: "Always: upstream disables PATCH.", 400: None,
                                      415: None})
def patch_organization(request):
    """Not allowed: upstream disables PATCH (PUT creates and updates) with a bare 405."""

    raise APIError(405, raw=b"", headers={"Allow": DETAIL_METHODS})
