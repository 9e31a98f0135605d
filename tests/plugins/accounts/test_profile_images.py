"""Profile images: ``accounts/{username}/image`` (POST, DELETE), the deprecated
``profile_images/v1/{username}/upload|remove`` aliases, and the served files."""
import io
import os
import struct
import zlib
from urllib.parse import urlparse

import pytest
from PIL import Image

from lms.testing import create_user, jwt_headers
from plugins.accounts import api
from plugins.accounts.serializers import account_config, profile_image_file_names
from tests.plugins.accounts.test_accounts import DEFAULT_IMAGES, JWT_401, make_user

IMAGE_URL = "/api/user/v1/accounts/{}/image"
UPLOAD_URL = "/api/profile_images/v1/{}/upload"
REMOVE_URL = "/api/profile_images/v1/{}/remove"
SIZES = (500, 120, 50, 30)


def image_bytes(fmt="PNG", size=(300, 200), colour=(200, 30, 30)):
    """A real image with some noise (so it is comfortably over 100 bytes)."""
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 7):
        image.putpixel((x, x % size[1]), (x % 255, 10, 200))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def decompression_bomb():
    """A tiny PNG that claims to be 100000 × 100000 pixels."""
    header = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + png_chunk(b"IEND", b"")
            + b"\x00" * 100)


@pytest.fixture
def images_app(app_factory, tmp_path):
    app = app_factory(**{"accounts.profile_image_dir": str(tmp_path / "images")})
    app.image_dir = tmp_path / "images"
    return app


@pytest.fixture
def session(images_app):
    db = images_app.registry["lms.dbsession_factory"]()
    yield db
    db.close()


def upload(app, user, content, filename="me.png", content_type="image/png", status=204,
           url=IMAGE_URL, username=None):
    return app.post(url.format(username or user.username),
                    upload_files=[("file", filename, content, content_type)],
                    headers=jwt_headers(app, user), status=status)


def stored_names(app, username):
    return profile_image_file_names(account_config(app.registry), username)


def test_upload_resizes_and_the_account_points_at_the_files(images_app, session):
    alice = make_user(session, "alice")
    response = upload(images_app, alice, image_bytes())
    assert response.body == b""
    names = stored_names(images_app, "alice")
    for size in SIZES:
        with Image.open(images_app.image_dir / names[size]) as stored:
            assert stored.format == "JPEG" and stored.size == (size, size)
    account = images_app.get("/api/user/v1/accounts/alice",
                             headers=jwt_headers(images_app, alice)).json
    image = account["profile_image"]
    session.expire_all()
    version = int(api.get_profile(session, alice.id).profile_image_uploaded_at.timestamp())
    assert image == {
        "has_image": True,
        **{f"image_url_{label}": f"http://localhost/media/profile-images/{names[size]}"
                                 f"?v={version}"
           for label, size in (("full", 500), ("large", 120), ("medium", 50), ("small", 30))}}
    served = images_app.get(urlparse(image["image_url_small"]).path)
    assert served.content_type == "image/jpeg"
    assert served.body == (images_app.image_dir / names[30]).read_bytes()


@pytest.mark.parametrize("fmt, filename, content_type", [
    ("JPEG", "photo.JPG", "image/jpeg"), ("JPEG", "photo.jpeg", "image/pjpeg"),
    ("GIF", "anim.gif", "image/gif"),
])
def test_jpeg_and_gif_uploads(images_app, session, fmt, filename, content_type):
    alice = make_user(session, "alice")
    upload(images_app, alice, image_bytes(fmt, size=(120, 400)), filename, content_type)
    assert os.path.exists(images_app.image_dir / stored_names(images_app, "alice")[500])


def test_raw_upload_with_a_content_disposition(images_app, session):
    alice = make_user(session, "alice")
    headers = dict(jwt_headers(images_app, alice), **{
        "Content-Type": "image/png", "Content-Disposition": 'attachment; filename="me.png"'})
    images_app.post(IMAGE_URL.format("alice"), image_bytes(), headers=headers, status=204)
    headers["Content-Disposition"] = "attachment"
    response = images_app.post(IMAGE_URL.format("alice"), image_bytes(), headers=headers,
                               status=400)
    assert response.json == {"developer_message": (
        "Missing filename. Request should include a Content-Disposition header with a "
        "filename parameter.")}
    headers["Content-Disposition"] = 'attachment; filename="me.gif"'
    response = images_app.post(IMAGE_URL.format("alice"), image_bytes(), headers=headers,
                               status=400)
    assert response.json == {"developer_message": (
        'File extension does not match requested Content-type. Filename: "me.gif", '
        'Content-type: "image/png"')}


def test_delete_removes_the_files(images_app, session):
    alice = make_user(session, "alice")
    upload(images_app, alice, image_bytes())
    names = stored_names(images_app, "alice")
    response = images_app.delete(IMAGE_URL.format("alice"),
                                 headers=jwt_headers(images_app, alice), status=204)
    assert response.body == b""
    assert not any(os.path.exists(images_app.image_dir / name) for name in names.values())
    account = images_app.get("/api/user/v1/accounts/alice",
                             headers=jwt_headers(images_app, alice)).json
    assert account["profile_image"] == DEFAULT_IMAGES
    images_app.get(f"/media/profile-images/{names[30]}", status=404)


def test_deprecated_aliases_upload_and_remove(images_app, session):
    alice = make_user(session, "alice")
    upload(images_app, alice, image_bytes(), url=UPLOAD_URL)
    names = stored_names(images_app, "alice")
    assert os.path.exists(images_app.image_dir / names[120])
    images_app.post(REMOVE_URL.format("alice"), headers=jwt_headers(images_app, alice),
                    status=204)
    assert not os.path.exists(images_app.image_dir / names[120])


MIN_MESSAGE = "The file must be at least 100 bytes in size."


@pytest.mark.parametrize("content, filename, content_type, message", [
    (b"\x89PNG\r\n\x1a\n" + b"0" * (1024 * 1024), "me.png", "image/png",
     "The file must be smaller than 1 MB in size."),
    (b"\x89PNG\r\n\x1a\n", "me.png", "image/png", MIN_MESSAGE),
    (b"x" * 200, "me.txt", "text/plain",
     "The file must be one of the following types: .jpeg, .jpg, .png, .gif."),
    (image_bytes(), "me.png", "image/jpeg",
     "The Content-Type header for this file does not match the file data. The file may be "
     "corrupted."),
    (image_bytes("JPEG"), "me.png", "image/png",
     "The file name extension for this file does not match the file data. The file may be "
     "corrupted."),
])
def test_invalid_uploads_are_refused(images_app, session, content, filename, content_type,
                                     message):
    alice = make_user(session, "alice")
    response = upload(images_app, alice, content, filename, content_type, status=400)
    assert response.json == {"developer_message": message, "user_message": message}
    assert not images_app.image_dir.exists() or not os.listdir(images_app.image_dir)
    session.expire_all()
    assert api.get_profile(session, alice.id).profile_image_uploaded_at is None


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 300,  # the right magic, no image behind it
    decompression_bomb(),
])
def test_corrupt_and_hostile_images_are_refused(images_app, session, content):
    alice = make_user(session, "alice")
    response = upload(images_app, alice, content, status=400)
    assert response.json["user_message"] == "Upload failed for profile image"
    assert response.json["developer_message"].startswith("Upload failed for profile image: ")
    assert not images_app.image_dir.exists() or not os.listdir(images_app.image_dir)


def test_pixel_budget_is_configurable(app_factory, tmp_path):
    app = app_factory(**{"accounts.profile_image_dir": str(tmp_path),
                         "accounts.profile_image_max_pixels": "10000"})
    db = app.registry["lms.dbsession_factory"]()
    alice = make_user(db, "alice")
    response = upload(app, alice, image_bytes(size=(101, 100)), status=400)
    assert response.json == {
        "developer_message": "Upload failed for profile image: the image is 101x100 pixels; "
                             "at most 10000 pixels are accepted",
        "user_message": "Upload failed for profile image"}
    upload(app, alice, image_bytes(size=(100, 100)))
    db.close()


def test_missing_file_and_wrong_media_type(images_app, session):
    alice = make_user(session, "alice")
    headers = jwt_headers(images_app, alice)
    message = "No file provided for profile image"
    for body in ({}, {"other": "x"}):
        response = images_app.post(IMAGE_URL.format("alice"), body, headers=headers,
                                   status=400)
        assert response.json == {"developer_message": message, "user_message": message}
    response = images_app.post(IMAGE_URL.format("alice"), upload_files=[
        ("picture", "me.png", image_bytes(), "image/png")], headers=headers, status=400)
    assert response.json == {"developer_message": message, "user_message": message}
    response = images_app.post_json(IMAGE_URL.format("alice"), {"file": "x"}, headers=headers,
                                    status=415)
    assert response.json == {
        "developer_message": 'Unsupported media type "application/json" in request.'}
    response = images_app.post_json(UPLOAD_URL.format("alice"), {"file": "x"},
                                    headers=headers, status=415)
    assert response.json == {"detail": 'Unsupported media type "application/json" in request.'}


def test_only_the_owner_may_change_the_image(images_app, session):
    make_user(session, "alice")
    bob = create_user(session, "bob")
    staff = create_user(session, "staff", is_staff=True)
    denied = "You do not have permission to perform this action."
    for caller in (bob, staff):
        response = upload(images_app, caller, image_bytes(), username="alice", status=403)
        assert response.json == {"developer_message": denied}
        response = images_app.delete(IMAGE_URL.format("alice"),
                                     headers=jwt_headers(images_app, caller), status=403)
        assert response.json == {"developer_message": denied}
        response = upload(images_app, caller, image_bytes(), username="alice", status=403,
                          url=UPLOAD_URL)
        assert response.json == {"detail": denied}
        response = images_app.post(REMOVE_URL.format("alice"),
                                   headers=jwt_headers(images_app, caller), status=403)
        assert response.json == {"detail": denied}
    assert not images_app.image_dir.exists()


def test_the_owner_check_ignores_case(images_app, session):
    alice = make_user(session, "alice")
    upload(images_app, alice, image_bytes(), username="ALICE")
    assert os.path.exists(images_app.image_dir / stored_names(images_app, "alice")[30])


def test_anonymous_callers(images_app, session):
    make_user(session, "alice")
    response = images_app.post(IMAGE_URL.format("alice"), upload_files=[
        ("file", "me.png", image_bytes(), "image/png")], status=401)
    assert response.json == {"developer_message": "Authentication credentials were not "
                                                  "provided."}
    assert "WWW-Authenticate" not in response.headers
    response = images_app.delete(IMAGE_URL.format("alice"), status=401)
    assert "WWW-Authenticate" not in response.headers
    for url in (UPLOAD_URL, REMOVE_URL):
        response = images_app.post(url.format("alice"), status=401)
        assert response.json == JWT_401
        assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


def test_a_minor_keeps_no_image(images_app, session):
    alice = make_user(session, "alice")
    api.get_profile(session, alice.id).year_of_birth = None
    session.commit()
    upload(images_app, alice, image_bytes())
    account = images_app.get("/api/user/v1/accounts/alice",
                             headers=jwt_headers(images_app, alice)).json
    assert account["profile_image"] == DEFAULT_IMAGES
    assert not images_app.image_dir.exists()


@pytest.mark.parametrize("size", SIZES)
def test_default_images_are_served(app, size):
    response = app.get(f"/static/images/profiles/default_{size}.png")
    assert response.content_type == "image/png"
    with Image.open(io.BytesIO(response.body)) as image:
        assert image.size == (size, size)


def test_unknown_files_are_404(images_app):
    images_app.get("/static/images/profiles/default_31.png", status=404)
    images_app.get("/media/profile-images/nothing.jpg", status=404)
    images_app.get("/media/profile-images/..", status=404)
