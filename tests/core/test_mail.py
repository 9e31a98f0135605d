"""Mail leaves only after commit; the file backend writes readable .eml files."""
import email

import pytest


@pytest.fixture
def app(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin")
    return app_factory()


def test_mail_sent_after_commit(app):
    app.post_json("/api/fake/v1/mail/", {"to": "ada@example.com"})
    outbox = app.registry["lms.mail_outbox"]
    assert len(outbox) == 1
    assert outbox[0]["To"] == "ada@example.com" and outbox[0]["Subject"] == "Hello"
    assert outbox[0].get_body(("plain",)).get_content().strip() == "Plain text"


def test_no_mail_when_request_fails(app):
    app.post_json("/api/fake/v1/mail/", {"to": "ada@example.com", "fail": True}, status=400)
    assert app.registry["lms.mail_outbox"] == []


def test_file_backend_writes_eml(app_factory, add_plugins, tmp_path):
    add_plugins("tests.core.fakeplugin")
    app = app_factory(**{"mail.backend": "file", "mail.file_path": str(tmp_path / "mail")})
    app.post_json("/api/fake/v1/mail/", {"to": "bob@example.com"})
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes())
    assert message["To"] == "bob@example.com"


def test_unknown_backend_is_a_configuration_error(app_factory):
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="mail.backend must be one of"):
        app_factory(**{"mail.backend": "pigeon"})
