"""HTML pages the accounts API's emails link to (upstream ``student.views``).

- ``/email_confirm/{key}``: apply a pending primary email change (requested by
  an account PATCH) and tell both addresses;
- ``/activate_secondary_email/{key}``: make the pending recovery address active.

Both answer a small HTML page, as upstream does, whatever the outcome.
"""
from html import escape

import venusian
from pyramid.response import Response
from sqlalchemy import select

from lms.mail import send_mail
from lms.models import User
from lms.timeutil import utcnow
from lms.users import equal_ignoring_case
from plugins.accounts import api
from plugins.accounts.models import PendingEmailChange

PAGE = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>"
        "<body><h1>{title}</h1><p>{message}</p></body></html>")


def page(title, message, status=200):
    return Response(PAGE.format(title=escape(title), message=escape(message)), status=status,
                    content_type="text/html", charset="utf-8")


def pending_change(request, kind):
    db = request.dbsession
    return db.scalar(select(PendingEmailChange).where(
        PendingEmailChange.activation_key == request.matchdict["key"],
        PendingEmailChange.kind == kind))


def confirm_email_change(request):
    """``/email_confirm/{key}``: apply the pending change and tell both addresses."""
    db = request.dbsession
    pending = pending_change(request, "primary")
    if pending is None:
        return page("Invalid email change key",
                    "This e-mail key is not valid. Please check the link and try again.")
    user = db.get(User, pending.user_id)
    new_email = pending.new_email
    if db.scalar(select(User.id).where(equal_ignoring_case(User.email, new_email),
                                       User.id != user.id).limit(1)):
        return page("E-mail address already in use",
                    "An account with this e-mail already exists.")
    profile = api.get_profile(db, user.id, create=True)
    meta = dict(profile.meta or {})
    meta["old_emails"] = list(meta.get("old_emails", [])) + [[user.email,
                                                              utcnow().isoformat()]]
    profile.meta = meta
    old_email = user.email
    user.email = new_email
    db.delete(pending)
    db.flush()
    platform = request.registry.settings["lms.platform_name"]
    text = (f"This is to confirm that you changed the e-mail associated with {platform} from "
            f"{old_email} to {new_email}. If you did not make this request, please contact "
            f"us immediately.\n")
    for address in (old_email, new_email):
        send_mail(request, address, f"Email Change Confirmation for {platform}", text)
    return page("E-mail change successful",
                f"You changed the e-mail address of your account from {old_email} to "
                f"{new_email}.")


def activate_secondary_email(request):
    """``/activate_secondary_email/{key}``: the recovery address becomes active."""
    db = request.dbsession
    pending = pending_change(request, "secondary")
    if pending is None:
        return page("Invalid email change key",
                    "This e-mail key is not valid. Please check the link and try again.")
    profile = api.get_profile(db, pending.user_id, create=True)
    profile.secondary_email = pending.new_email
    profile.secondary_email_active = True
    db.delete(pending)
    db.flush()
    return page("Recovery email activated", "Your recovery email address is now active.")


def add_confirmation_routes(config):
    config.add_route("accounts.email_confirm", "/email_confirm/{key:[^/]*}")
    config.add_view(confirm_email_change, route_name="accounts.email_confirm",
                    request_method="GET")
    config.add_route("accounts.activate_secondary_email", "/activate_secondary_email/{key:[^/]*}")
    config.add_view(activate_secondary_email, route_name="accounts.activate_secondary_email",
                    request_method="GET")


def _attach_routes(scanner, name, ob):
    add_confirmation_routes(scanner.config)


venusian.attach(add_confirmation_routes, _attach_routes, category="pyramid", depth=0)
