"""API tokens: kept only as a digest, expiring, listed and revoked by their owner (API and the
account page), and the earlier plain tokens of Django REST framework hashed by the migration.

Two-factor sign-in and tokens: tests/trust/test_two_factor.py.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import timezone

from memorial.accounts import tokens
from memorial.accounts.models import ApiToken
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("memorial.accounts.migrations.0003_api_tokens_hashed")


def ask_for_token(email: str, **extra) -> dict:
    body = {"email": email, "password": PASSWORD, **extra}
    response = Client().post("/api/auth/token/", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]  # no cache may keep the one copy
    return response.json()


def api(key: str, method: str = "get", path: str = "/api/memorials/"):
    return getattr(Client(), method)(path, HTTP_AUTHORIZATION=f"Token {key}")


def test_the_database_keeps_a_digest_and_a_prefix_never_the_token(family):
    answer = ask_for_token("owner@example.org", name="backup script")
    key = answer["token"]
    assert len(key) >= 40 and key.startswith("mem_")
    token = ApiToken.objects.get(user=family.owner)
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == answer["prefix"] == key[:10]
    assert token.name == "backup script"
    stored = [str(v) for v in ApiToken.objects.values_list().get(pk=token.pk)]
    assert not any(key in value for value in stored)
    assert api(key).status_code == 200
    # Each request makes a new token: the old one cannot be shown again, so none is reused.
    assert ask_for_token("owner@example.org")["token"] != key
    assert ApiToken.objects.filter(user=family.owner).count() == 2


def test_a_token_expires_after_the_default_or_the_chosen_days(family, settings):
    settings.MEMORIAL_API_TOKEN_DAYS = 30
    settings.MEMORIAL_API_TOKEN_MAX_DAYS = 90
    before = timezone.now()
    default = ApiToken.objects.get(prefix=ask_for_token("owner@example.org")["prefix"])
    assert timedelta(days=30) <= default.expires_at - before < timedelta(days=30, minutes=1)
    week = ask_for_token("owner@example.org", days=7)
    chosen = ApiToken.objects.get(prefix=week["prefix"])
    assert timedelta(days=7) <= chosen.expires_at - before < timedelta(days=7, minutes=1)

    too_long = Client().post(
        "/api/auth/token/",
        json.dumps({"email": "owner@example.org", "password": PASSWORD, "days": 91}),
        content_type="application/json",
    )
    assert too_long.status_code == 400
    assert "at most 90 days" in too_long.json()["detail"]

    ApiToken.objects.filter(pk=chosen.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = api(week["token"])
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


def test_use_is_recorded_and_unknown_tokens_are_refused(family):
    answer = ask_for_token("viewer@example.org")
    assert ApiToken.objects.get(prefix=answer["prefix"]).last_used_at is None
    assert api(answer["token"]).status_code == 200
    assert ApiToken.objects.get(prefix=answer["prefix"]).last_used_at is not None
    unknown = api("mem_" + "x" * 43)
    assert unknown.status_code == 401 and "not valid" in unknown.json()["detail"]


def test_owners_list_and_revoke_their_own_tokens_over_the_api(family):
    mine = ask_for_token("owner@example.org", name="laptop")
    spare = ask_for_token("owner@example.org", name="spare")
    theirs = ask_for_token("viewer@example.org")

    listed = api(mine["token"], path="/api/auth/tokens/")
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()] == ["spare", "laptop"]
    assert all("token" not in t and "digest" not in t for t in listed.json())

    # Another person's token is not theirs to see or revoke.
    other = api(mine["token"], "delete", f"/api/auth/tokens/{theirs['id']}/")
    assert other.status_code == 404
    assert api(theirs["token"]).status_code == 200
    assert api(mine["token"], "delete", "/api/auth/tokens/99999999999999999999/").status_code == 404

    gone = api(mine["token"], "delete", f"/api/auth/tokens/{spare['id']}/")
    assert gone.status_code == 204
    refused = api(spare["token"])
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    [revoked] = [t for t in api(mine["token"], path="/api/auth/tokens/").json() if t["revoked_at"]]
    assert revoked["id"] == spare["id"] and revoked["is_usable"] is False


def test_the_account_page_makes_shows_once_and_revokes_tokens(family, client_as):
    client = client_as(family.owner)
    page = client.get("/accounts/")
    assert page.status_code == 200
    assert "You have no API tokens." in page.content.decode()

    made = client.post("/accounts/", {"name": "photo backup", "days": "10"})
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    key = re.search(r'id="new-token" value="([^"]+)"', made.content.decode())[1]
    token = ApiToken.objects.get(digest=tokens.digest_of(key))
    assert token.user == family.owner and token.name == "photo backup"
    assert api(key).status_code == 200

    again = client.get("/accounts/").content.decode()
    assert key not in again and f"{token.prefix}…" in again and "photo backup" in again

    bad = client.post("/accounts/", {"name": "x", "days": "100000"})
    assert bad.status_code == 400 and "at most 365 days" in bad.content.decode()

    assert client_as(family.viewer).post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    revoked = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert revoked.status_code == 200
    assert "no longer works" in revoked.content.decode()
    assert api(key).status_code == 401
    assert client.post("/accounts/tokens/99999999999999999999/revoke/").status_code == 404


def test_the_account_page_needs_a_signed_in_person(db):
    response = Client().get("/accounts/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_migration_keeps_only_digests_of_earlier_plain_tokens(family):
    """Django REST framework stored its tokens as sent; after the migration the table is empty
    and each earlier token still works until it expires, found by its digest."""
    plain = "0123456789abcdef0123456789abcdef01234567"  # 40 hex characters, as DRF made them
    assert MIGRATION.LEGACY_TABLE == "authtoken_token"
    with connection.cursor() as cursor:
        cursor.execute(
            'CREATE TABLE "authtoken_token" ("key" varchar(40) PRIMARY KEY, '
            '"created" timestamp NOT NULL, "user_id" bigint)'
        )
        cursor.execute(
            'INSERT INTO "authtoken_token" VALUES (%s, %s, %s)',
            [plain, timezone.now(), family.owner.pk],
        )

    MIGRATION.hash_legacy_tokens(apps, SimpleNamespace(connection=connection))

    with connection.cursor() as cursor:
        cursor.execute('SELECT COUNT(*) FROM "authtoken_token"')
        assert cursor.fetchone() == (0,)
    token = ApiToken.objects.get(user=family.owner)
    assert token.digest == tokens.digest_of(plain) and token.prefix == plain[:10]
    assert token.expires_at > timezone.now() + timedelta(days=29)
    assert api(plain).status_code == 200
