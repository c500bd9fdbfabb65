"""Signing in, throttling, password reset, and joining a memorial through an invitation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from memorial.accounts.models import Invitation, User
from memorial.memorials.models import Membership, Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")


def _invite(family, role: str = Role.CONTRIBUTOR, **extra) -> Invitation:
    return Invitation.objects.create(
        memorial=family.memorial, role=role, created_by=family.owner, **extra
    )


def _role(memorial, user) -> str | None:
    return (
        Membership.objects.filter(memorial=memorial, user=user)
        .values_list("role", flat=True)
        .first()
    )


# --- sign-in and throttling -------------------------------------------------------------


def test_sign_in_with_e_mail_address_in_any_case(family):
    client = Client()
    response = client.post(LOGIN, {"username": "OWNER@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("memorials:dashboard")
    assert client.get(reverse("memorials:dashboard")).context["user"] == family.owner


def test_wrong_password_shows_a_message_and_does_not_sign_in(family):
    client = Client()
    response = client.post(LOGIN, {"username": "owner@example.org", "password": "nope"})
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_five_failures_lock_sign_in_even_with_the_right_password(family):
    client = Client()
    for _ in range(4):
        response = client.post(LOGIN, {"username": "owner@example.org", "password": "wrong"})
        assert response.status_code == 200
    response = client.post(LOGIN, {"username": "owner@example.org", "password": "wrong"})
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    response = client.post(LOGIN, {"username": "owner@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked by this one's failures.
    other = client.post(LOGIN, {"username": "viewer@example.org", "password": PASSWORD})
    assert other.status_code == 302


def test_admin_sign_in_locks_out_with_the_lockout_page_and_its_policy(family, settings):
    """django-axes swaps in its lockout page after the view; the page still carries the
    Content-Security-Policy nonce of its one inline script."""
    client = Client(raise_request_exception=False)
    attempt = {"username": "staff@example.org", "password": "wrong"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/admin/login/", attempt).status_code == 200
    for _ in range(2):
        response = client.post("/admin/login/", attempt)
        assert response.status_code == 429
        html = response.content.decode()
        assert "Too many sign-in attempts" in html
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])[1]
        assert f'<script nonce="{nonce}">' in html


def test_password_reset_mails_a_link_that_sets_a_new_password(family):
    client = Client()
    response = client.post(reverse("accounts:password_reset"), {"email": "owner@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@example.org"]
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    set_url = form_page.redirect_chain[-1][0]
    new = "quiet-river-stones-42"
    done = client.post(set_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:password_reset_complete")

    fresh = Client()
    assert fresh.post(LOGIN, {"username": "owner@example.org", "password": new}).status_code == 302
    # The link works once.
    assert Client().get(link, follow=True).context["validlink"] is False


def test_password_reset_for_unknown_address_sends_nothing_and_reveals_nothing(db):
    response = Client().post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def _ask_for_reset(email: str, address: str = "192.0.2.1"):
    return Client(REMOTE_ADDR=address).post(reverse("accounts:password_reset"), {"email": email})


def test_password_reset_e_mails_are_limited_per_e_mail_address(family, settings):
    settings.MEMORIAL_PASSWORD_RESET_EMAIL_RATE = "3/h"
    answers = [_ask_for_reset("Owner@example.org", address=f"192.0.2.{n}") for n in range(1, 16)]
    # Every answer is the same neutral page; only the first three send an e-mail.
    assert {(r.status_code, r["Location"]) for r in answers} == {
        (302, reverse("accounts:password_reset_done"))
    }
    assert len(mail.outbox) == 3
    # Other people's resets are not held up by it.
    assert _ask_for_reset("viewer@example.org").status_code == 302
    assert len(mail.outbox) == 4


def test_password_reset_e_mails_are_limited_per_client_address(family, settings):
    settings.MEMORIAL_PASSWORD_RESET_RATE = "3/h"
    people = ["owner", "contributor", "viewer", "outsider", "staff"]
    answers = [_ask_for_reset(f"{name}@example.org") for name in people]
    assert all(r.status_code == 302 for r in answers)
    assert [m.to for m in mail.outbox] == [[f"{name}@example.org"] for name in people[:3]]
    # An unknown address past the limit gets the same answer, as it always does.
    assert _ask_for_reset("nobody@example.org").status_code == 302
    assert _ask_for_reset("staff@example.org", address="198.51.100.7").status_code == 302
    assert len(mail.outbox) == 4


# --- invitations ---------------------------------------------------------------------------


def test_invitation_page_names_the_memorial_and_the_role(family):
    invitation = _invite(family, Role.VIEWER)
    response = Client().get(invitation.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert "Grandma Rose" in page and "Viewer" in page
    assert 'name="password2"' in page


def test_anonymous_person_signs_up_joins_with_the_role_and_is_signed_in(family):
    invitation = _invite(family, Role.CONTRIBUTOR, email="new@example.org")
    client = Client()
    assert client.get(invitation.get_absolute_url()).context["form"]["email"].value() == (
        "new@example.org"
    )
    response = client.post(
        invitation.get_absolute_url(),
        {
            "display_name": "Nora New",
            "email": "New@Example.org",
            "password1": "a-gentle-autumn-9",
            "password2": "a-gentle-autumn-9",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == family.memorial.get_absolute_url()
    user = User.objects.get(email="new@example.org")
    assert user.display_name == "Nora New"
    assert _role(family.memorial, user) == Role.CONTRIBUTOR
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    assert client.get(family.memorial.get_absolute_url()).status_code == 200


def test_sign_up_checks_passwords_and_existing_accounts(family):
    invitation = _invite(family)
    url = invitation.get_absolute_url()
    different = Client().post(
        url,
        {
            "display_name": "Nora",
            "email": "n@example.org",
            "password1": "a-gentle-autumn-9",
            "password2": "a-gentle-autumn-8",
        },
    )
    assert different.status_code == 400
    assert "not the same" in different.content.decode()
    weak = Client().post(
        url,
        {"display_name": "Nora", "email": "n@example.org", "password1": "123", "password2": "123"},
    )
    assert weak.status_code == 400
    assert weak.context["form"].errors["password1"]
    taken = Client().post(
        url,
        {
            "display_name": "Vic",
            "email": "viewer@example.org",
            "password1": "a-gentle-autumn-9",
            "password2": "a-gentle-autumn-9",
        },
    )
    assert taken.status_code == 400
    assert "already exists" in taken.content.decode()
    assert not User.objects.filter(email="n@example.org").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_signed_in_user_accepts_with_one_click(family, client_as):
    invitation = _invite(family, Role.CONTRIBUTOR)
    client = client_as(family.outsider)
    page = client.get(invitation.get_absolute_url())
    assert page.status_code == 200 and "Accept the invitation" in page.content.decode()
    assert _role(family.memorial, family.outsider) is None  # looking is not joining
    response = client.post(invitation.get_absolute_url())
    assert response.status_code == 302
    assert _role(family.memorial, family.outsider) == Role.CONTRIBUTOR


@pytest.mark.parametrize(
    ("member", "invited", "expected"),
    [
        ("owner", Role.VIEWER, Role.OWNER),
        ("contributor", Role.VIEWER, Role.CONTRIBUTOR),
        ("viewer", Role.CONTRIBUTOR, Role.CONTRIBUTOR),
        ("viewer", Role.OWNER, Role.OWNER),
    ],
)
def test_accepting_keeps_the_higher_role(family, client_as, member, invited, expected):
    user = family.user(member)
    invitation = _invite(family, invited)
    assert client_as(user).post(invitation.get_absolute_url()).status_code == 302
    assert _role(family.memorial, user) == expected


@pytest.mark.parametrize("state", ["expired", "used", "revoked"])
def test_unusable_links_answer_410_with_a_clear_reason(family, client_as, state):
    now = timezone.now()
    fields = {
        "expired": {"expires_at": now - timedelta(minutes=1)},
        "used": {"accepted_at": now, "accepted_by": family.viewer},
        "revoked": {"revoked_at": now},
    }[state]
    invitation = _invite(family, Role.OWNER, **fields)
    reason = {
        "expired": "has expired",
        "used": "already been used",
        "revoked": "withdrawn",
    }[state]
    for client in (Client(), client_as(family.outsider)):
        page = client.get(invitation.get_absolute_url())
        assert page.status_code == 410
        assert reason in page.content.decode()
        assert client.post(invitation.get_absolute_url()).status_code == 410
    signup = Client().post(
        invitation.get_absolute_url(),
        {
            "display_name": "Late",
            "email": "late@example.org",
            "password1": "a-gentle-autumn-9",
            "password2": "a-gentle-autumn-9",
        },
    )
    assert signup.status_code == 410
    assert not User.objects.filter(email="late@example.org").exists()
    assert _role(family.memorial, family.outsider) is None


def test_a_link_makes_exactly_one_member(family, client_as):
    invitation = _invite(family, Role.CONTRIBUTOR)
    assert client_as(family.outsider).post(invitation.get_absolute_url()).status_code == 302
    assert client_as(family.staff).post(invitation.get_absolute_url()).status_code == 410
    assert _role(family.memorial, family.staff) is None


def test_unknown_invitation_token_is_404(db):
    assert Client().get(reverse("accounts:invitation", args=["nope"])).status_code == 404


def test_there_is_no_open_sign_up_page(db):
    page = Client().get(LOGIN).content.decode()
    assert "invitation" in page
    assert Client().get("/accounts/signup/").status_code == 404
