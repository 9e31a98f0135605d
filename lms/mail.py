"""Outgoing email, sent only after the request's transaction commits.

Backends, chosen with ``mail.backend``:

- ``file`` (development default): each message is written to
  ``mail.file_path`` (``var/mail/``) as an ``.eml`` file, so it can be read;
- ``smtp``: ``mail.smtp_host``, ``mail.smtp_port``, ``mail.smtp_username``,
  ``mail.smtp_password``, ``mail.smtp_starttls``;
- ``memory``: kept in ``registry["lms.mail_outbox"]`` (tests).
"""
import logging
import os
import smtplib
import uuid
from email.message import EmailMessage

from pyramid.exceptions import ConfigurationError

from lms import process_state
from lms.settings import as_bool, as_int

log = logging.getLogger(__name__)
BACKENDS = ("file", "smtp", "memory")


def build_message(settings, to, subject, text, html=None, from_email=None):
    message = EmailMessage()
    message["From"] = from_email or settings["mail.default_from"]
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@openlms>"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def deliver(registry, message):
    """Send one message now with the configured backend."""
    settings = registry.settings
    backend = settings["mail.backend"]
    if backend == "memory":
        registry["lms.mail_outbox"].append(message)
    elif backend == "file":
        directory = settings["mail.file_path"]
        os.makedirs(directory, exist_ok=True)
        name = f"{message['Message-ID'].strip('<>').split('@')[0]}.eml"
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(bytes(message))
    else:
        with smtplib.SMTP(settings["mail.smtp_host"], as_int(settings, "mail.smtp_port"),
                          timeout=30) as smtp:
            if as_bool(settings, "mail.smtp_starttls"):
                smtp.starttls()
            if settings.get("mail.smtp_username"):
                smtp.login(settings["mail.smtp_username"], settings["mail.smtp_password"])
            smtp.send_message(message)


def send_mail(request, to, subject, text, html=None, from_email=None):
    """Queue a message; it leaves only if the request's transaction commits."""
    registry = request.registry
    message = build_message(registry.settings, to, subject, text, html, from_email)

    def after_commit(success):
        if not success:
            return
        try:
            deliver(registry, message)
        except Exception:  # the request has committed: log, never fail it now
            log.exception("could not send mail %r to %s", subject, message["To"])

    request.tm.get().addAfterCommitHook(after_commit)
    return message


def includeme(config):
    settings = config.get_settings()
    if settings["mail.backend"] not in BACKENDS:
        raise ConfigurationError(
            f"mail.backend must be one of {', '.join(BACKENDS)}, not {settings['mail.backend']!r}")
    config.registry["lms.mail_outbox"] = process_state.register(config.registry, [])
