"""The accounts plugin's share of the benchmark (``make bench``, see ``bench/README.md``).

Data: a profile for every user, a ``time_zone`` preference for every user and a
``pref-lang`` one for every other user (1.5 rows per user), and a link to the
benchmark's SSO provider for every other user. Scenarios: what the account MFE
and the header call (``me``, the account, the preferences), the server-to-server
listings, registration and a login with an unknown email.
"""
import json

from plugins.accounts.fields import GENDER_CHOICES, LEVEL_OF_EDUCATION_CHOICES

TIME_ZONES = ("America/New_York", "America/Sao_Paulo", "Europe/Paris", "Europe/London",
              "Africa/Lagos", "Asia/Kolkata", "Asia/Shanghai", "Asia/Tokyo",
              "Australia/Sydney", "UTC")
LANGUAGES = ("en", "fr", "es", "de", "ar", "zh-cn", "pt-br", "hi")
COUNTRIES = ("US", "IN", "CN", "BR", "FR", "GB", "NG", "DE", "MX", "EG", "JP", "ES")
PROVIDER = {"type": "oauth2", "backend_name": "bench-oauth2", "name": "Bench SSO",
            "visible": True}
PROVIDER_ID = "oa2-bench-oauth2"
REGISTRATION = "/api/user/v1/account/registration/"
LOGIN = "/api/user/v1/account/login_session/"


def add_dataset(dataset):
    from plugins.accounts.models import SocialAuthLink, UserPreference, UserProfile

    rng = dataset.rng
    ids = range(dataset.first_user_id, dataset.last_user_id + 1)
    genders = [code for code, _ in GENDER_CHOICES]
    levels = [code for code, _ in LEVEL_OF_EDUCATION_CHOICES if code]
    dataset.insert(UserProfile, (
        "user_id", "year_of_birth", "gender", "level_of_education", "country",
        "language_proficiencies", "social_links", "meta", "secondary_email_active",
    ), ((user_id, rng.randrange(1950, 2010), rng.choice(genders), rng.choice(levels),
         rng.choice(COUNTRIES), [{"code": rng.choice(LANGUAGES)}], [], {}, False)
        for user_id in ids))

    def preferences():
        for user_id in ids:
            yield user_id, "time_zone", rng.choice(TIME_ZONES)
            if user_id % 2 == 0:
                yield user_id, "pref-lang", rng.choice(LANGUAGES)

    dataset.insert(UserPreference, ("user_id", "key", "value"), preferences())
    dataset.insert(SocialAuthLink, ("user_id", "provider", "uid", "extra_data", "created"), (
        (user_id, PROVIDER["backend_name"], f"bench-{user_id}-{rng.getrandbits(32):08x}", {},
         dataset.now) for user_id in ids if user_id % 2 == 1))


def registration_form(number):
    username = f"bench_registrant_{number}"
    return {"username": username, "email": f"{username}@example.com", "name": "Bench Registrant",
            "password": "bench-Pass-w0rd", "honor_code": "true", "country": "FR"}


def unknown_login_form(number):
    return {"email": f"nobody_{number}@example.com", "password": "not-the-password"}


def scenarios(size):
    every = lambda users: users  # noqa: E731
    providers = {"accounts.third_party_auth_providers": json.dumps([PROVIDER])}
    return [
        {"name": "me", "path": "/api/user/v1/me", "auth": "learner", "hot": True},
        {"name": "accounts/{username}", "path": "/api/user/v1/accounts/{username}",
         "auth": "learner", "hot": True},
        {"name": "preferences/{username}", "path": "/api/user/v1/preferences/{username}",
         "auth": "learner", "hot": True},
        {"name": "users/", "path": "/api/user/v1/users/", "auth": "api_key", "hot": True,
         "rows": every},
        {"name": "user_prefs/", "path": "/api/user/v1/user_prefs/", "auth": "api_key",
         "hot": True, "rows": lambda users: users + users // 2},
        {"name": "user_prefs/?key=pref-lang", "path": "/api/user/v1/user_prefs/?key=pref-lang",
         "auth": "api_key", "rows": lambda users: users // 2},
        {"name": "preferences/time_zone/users/",
         "path": "/api/user/v1/preferences/time_zone/users/", "auth": "api_key", "rows": every},
        {"name": f"third_party_auth providers/{PROVIDER_ID}/users",
         "path": f"/api/third_party_auth/v0/providers/{PROVIDER_ID}/users", "auth": "api_key",
         "rows": lambda users: (users + 1) // 2, "settings": providers},
        {"name": "registration", "method": "POST", "path": REGISTRATION,
         "form": registration_form, "auth": None},
        {"name": "login, unknown email", "method": "POST", "path": LOGIN,
         "form": unknown_login_form, "auth": None, "status": 400, "csrf": True},
    ]
