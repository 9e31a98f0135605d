"""Real Open edX clients over HTTP: edx-rest-api-client (JWT) and a Bearer token."""
import requests

from lms.models import OAuthAccessToken
from lms.oauth import create_application
from lms.testing import configure_django_for_edx_rest_api_client, create_user

DATA_URL = "/api/experiments/v0/data/"


def _service_client(db):
    owner = create_user(db, "svc-client")
    application, secret = create_application(db, name="svc", user=owner,
                                             grant_type="client-credentials")
    db.commit()
    return owner, application, secret


def test_oauth_api_client_reads_and_writes_experiment_data(app, db, live_server):
    configure_django_for_edx_rest_api_client()
    from edx_rest_api_client.client import OAuthAPIClient

    owner, application, secret = _service_client(db)
    client = OAuthAPIClient(live_server, application.client_id, secret)
    try:
        created = client.post(live_server + DATA_URL, timeout=10,
                              json={"experiment_id": 3, "key": "colour", "value": "blue"})
        assert created.status_code == 201
        assert created.json()["user"] == "svc-client"
        listed = client.get(live_server + DATA_URL, params={"experiment_id": 3}, timeout=10)
        assert listed.status_code == 200
        assert [row["value"] for row in listed.json()["results"]] == ["blue"]
    finally:
        client.close()
    # One token for both calls: the client cached its JWT.
    assert db.query(OAuthAccessToken).filter_by(user_id=owner.id).count() == 1


def test_bearer_token_reads_key_values_and_is_refused_on_data(app, db, live_server):
    owner, application, secret = _service_client(db)
    with requests.Session() as session:
        token = session.post(live_server + "/oauth2/access_token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": application.client_id,
            "client_secret": secret}).json()
        assert token["token_type"] == "Bearer"
        headers = {"Authorization": "Bearer " + token["access_token"]}
        # data/ is JWT + session only upstream: a Bearer token is not a credential there.
        response = session.get(live_server + DATA_URL, headers=headers, timeout=10)
        assert response.status_code == 401
        # REV-934 accepts Bearer (STANDARD_AUTH); with its flag off it answers the default.
        response = session.get(live_server + "/api/experiments/v0/custom/REV-934/",
                               headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.json() == {"show_upsell": False, "upsell_flag": False}
