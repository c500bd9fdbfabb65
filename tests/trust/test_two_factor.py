"""Two-factor sign-in for staff with an authenticator app (TOTP, django-otp).

Codes are computed from the device's own key with django_otp.oath.totp, as the app would. A
device refuses a code it has already accepted, so later steps use the codes of the next time
steps (within the device's tolerance), as a person would after waiting for a new code.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from memorial.accounts import tokens
from memorial.accounts.models import ApiToken
from memorial.audit.actions import AuditAction
from memorial.audit.models import AuditEntry
from tests.conftest import PASSWORD


def code(device: TOTPDevice, ahead: int = 0) -> str:
    """The code the app shows now (`ahead` time steps later for the next ones)."""
    device.refresh_from_db()
    value = totp(device.bin_key, device.step, device.t0, device.digits, drift=ahead)
    return f"{value:0{device.digits}d}"


def sign_in(email: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def set_up(client: Client, user) -> TOTPDevice:
    page = client.get("/accounts/2fa/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post("/accounts/2fa/", {"action": "confirm", "code": code(device)})
    assert done.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


@pytest.mark.django_db
def test_set_up_shows_a_qr_code_and_the_secret_and_confirms_with_a_real_code(family):
    client = sign_in("staff@example.org")
    page = client.get("/accounts/2fa/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "QR code for your authenticator app" in html
    device = TOTPDevice.objects.get(user=family.staff, confirmed=False)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)[1].replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key

    wrong = client.post("/accounts/2fa/", {"action": "confirm", "code": "000000"})
    if code(device) != "000000":
        assert wrong.status_code == 400
        assert "not correct" in wrong.content.decode()
    device.throttle_reset()  # a failed code delays the next try; the person waits
    assert set_up(client, family.staff).pk == device.pk
    assert AuditEntry.objects.filter(
        action=AuditAction.TWO_FACTOR_ENABLED, actor_id=family.staff.pk
    ).exists()
    # The session that confirmed it counts as verified.
    assert client.get("/moderation/consent/").status_code == 200


@pytest.mark.django_db
def test_family_members_are_not_offered_it(family, client_as):
    assert client_as(family.owner).get("/accounts/2fa/").status_code == 404


@pytest.mark.django_db
def test_after_the_password_a_code_is_needed_before_any_page(family):
    device = set_up(sign_in("staff@example.org"), family.staff)

    client = sign_in("staff@example.org")
    for path in ("/", f"/m/{family.memorial.pk}/", "/moderation/consent/", "/audit/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/2fa/verify/?next="), path
    api = client.get("/api/memorials/")
    assert api.status_code == 403 and "authenticator" in api.json()["detail"]

    page = client.get("/accounts/2fa/verify/?next=/audit/")
    assert page.status_code == 200 and "Enter your code" in page.content.decode()
    done = client.post("/accounts/2fa/verify/", {"code": code(device, ahead=1), "next": "/audit/"})
    assert done.status_code == 302 and done["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200
    assert client.get("/api/memorials/").status_code == 200

    # Removing it needs a current code too.
    removed = client.post("/accounts/2fa/", {"action": "remove", "code": code(device, ahead=2)})
    assert removed.status_code == 302
    assert not TOTPDevice.objects.filter(user=family.staff).exists()
    assert AuditEntry.objects.filter(action=AuditAction.TWO_FACTOR_REMOVED).exists()
    assert sign_in("staff@example.org").get("/audit/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_code_does_not_open_the_site(family, settings):
    device = set_up(sign_in("staff@example.org"), family.staff)
    client = sign_in("staff@example.org")
    right = code(device, ahead=1)
    wrong = "123456" if right != "123456" else "654321"
    refused = client.post("/accounts/2fa/verify/", {"code": wrong})
    assert refused.status_code == 400 and "not correct" in refused.content.decode()
    assert client.get("/").status_code == 302
    # Open redirects are refused: the next address must be on this site.
    device.throttle_reset()
    done = client.post("/accounts/2fa/verify/", {"code": right, "next": "https://evil.example/"})
    assert done.status_code == 302 and done["Location"] == "/"


@pytest.mark.django_db
def test_staff_pages_ask_for_set_up_when_the_instance_requires_it(family, settings, client_as):
    settings.MEMORIAL_STAFF_REQUIRE_2FA = True
    client = sign_in("staff@example.org")
    for path in ("/moderation/consent/", "/audit/", "/staff/queues/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/2fa/?next="), path
    # Family pages are not staff pages; family members are not asked at all.
    assert client_as(family.owner).get(f"/m/{family.memorial.pk}/").status_code == 200
    # A token made before the instance required it opens nothing, and says why.
    key = tokens.issue(family.staff).key
    api = Client().get("/api/consent/pending/", HTTP_AUTHORIZATION=f"Token {key}")
    assert api.status_code == 401 and "two-factor" in api.json()["detail"]

    set_up(client, family.staff)
    assert client.get("/audit/").status_code == 200
    assert client.get("/api/consent/pending/").status_code == 200
    # A token made without a code still cannot stand in for the code.
    api = Client().get("/api/consent/pending/", HTTP_AUTHORIZATION=f"Token {key}")
    assert api.status_code == 401 and "without a code" in api.json()["detail"]


# --- API tokens


def ask_for_token(**body):
    body = {"email": "staff@example.org", "password": PASSWORD, **body}
    return Client().post("/api/auth/token/", json.dumps(body), content_type="application/json")


def with_token(key: str, path: str):
    return Client().get(path, HTTP_AUTHORIZATION=f"Token {key}")


@pytest.mark.django_db
def test_a_token_needs_the_code_when_the_account_has_an_authenticator(family, pending_consent):
    device = set_up(sign_in("staff@example.org"), family.staff)

    without = ask_for_token()
    assert without.status_code == 400
    assert "authenticator" in without.json()["detail"] and "code" in without.json()["detail"]
    right = code(device, ahead=1)
    wrong = ask_for_token(code="123456" if right != "123456" else "654321")
    assert wrong.status_code == 400 and "not correct" in wrong.json()["detail"]
    assert not ApiToken.objects.filter(user=family.staff).exists()

    device.throttle_reset()  # a failed code delays the next try; the person waits
    answer = ask_for_token(code=right)
    assert answer.status_code == 200, answer.content
    key = answer.json()["token"]
    assert with_token(key, "/api/memorials/").status_code == 200
    # The code was given when the token was made: it counts as a verified sign-in for staff work.
    pending = with_token(key, "/api/consent/pending/")
    assert pending.status_code == 200 and pending.json()[0]["id"] == str(pending_consent.pk)
    # The same code cannot make a second token.
    assert ask_for_token(code=right).status_code == 400


@pytest.mark.django_db
def test_turning_two_factor_on_stops_tokens_made_without_a_code(family):
    key = ask_for_token().json()["token"]
    assert with_token(key, "/api/memorials/").status_code == 200
    set_up(sign_in("staff@example.org"), family.staff)
    refused = with_token(key, "/api/memorials/")
    assert refused.status_code == 401 and "without a code" in refused.json()["detail"]


@pytest.mark.django_db
def test_staff_who_must_set_it_up_get_no_token_and_are_told_how(family, settings, client_as):
    settings.MEMORIAL_STAFF_REQUIRE_2FA = True
    refused = ask_for_token()
    assert refused.status_code == 403
    assert "/accounts/2fa/" in refused.json()["detail"]
    assert not ApiToken.objects.filter(user=family.staff).exists()
    # Nor from the account page; family members are not concerned.
    page = client_as(family.staff).post("/accounts/", {"name": "x", "days": "5"})
    assert page.status_code == 403 and "Set up two-factor sign-in" in page.content.decode()
    assert not ApiToken.objects.filter(user=family.staff).exists()
    assert ask_for_token(email="owner@example.org").status_code == 200


@pytest.mark.django_db
def test_the_account_page_makes_a_verified_token_after_the_code(family):
    client = sign_in("staff@example.org")
    set_up(client, family.staff)  # this sign-in entered a code
    made = client.post("/accounts/", {"name": "review script", "days": "5"})
    assert made.status_code == 200
    key = re.search(r'id="new-token" value="([^"]+)"', made.content.decode())[1]
    assert with_token(key, "/api/consent/pending/").status_code == 200
