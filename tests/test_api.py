"""The JSON API as its clients use it: tokens, roles, pagination, filters, members, consent.

`ENDPOINTS` lists every operation with the policy action that guards it; a test checks
it against the served OpenAPI schema so the list cannot drift from the code.
"""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from memorial.accounts.models import ApiToken
from memorial.accounts.tokens import digest_of
from memorial.consent.gate import may_use
from memorial.consent.models import ConsentRecord, Scope, Status
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Membership, Memorial, Photo, PhotoKind
from memorial.policy import Action
from tests import images
from tests.conftest import PASSWORD
from tests.factories import add_photo

# (method, path, the policy action that decides; None = any signed-in user or anyone)
ENDPOINTS: list[tuple[str, str, Action | None]] = [
    ("POST", "/api/auth/token/", None),
    ("GET", "/api/auth/tokens/", None),
    ("DELETE", "/api/auth/tokens/{token_id}/", None),
    ("GET", "/api/memorials/", None),
    ("POST", "/api/memorials/", Action.CREATE_MEMORIAL),
    ("GET", "/api/memorials/{memorial_id}/", Action.VIEW_MEMORIAL),
    ("PATCH", "/api/memorials/{memorial_id}/", Action.CHANGE_MEMORIAL),
    ("DELETE", "/api/memorials/{memorial_id}/", Action.DELETE_MEMORIAL),
    ("GET", "/api/memorials/{memorial_id}/viewing/", Action.CHOOSE_VIEWING),
    ("PUT", "/api/memorials/{memorial_id}/viewing/", Action.CHOOSE_VIEWING),
    ("GET", "/api/memorials/{memorial_id}/members/", Action.VIEW_MEMBERS),
    ("PATCH", "/api/memorials/{memorial_id}/members/{user_id}/", Action.MANAGE_MEMBERS),
    ("DELETE", "/api/memorials/{memorial_id}/members/{user_id}/", Action.MANAGE_MEMBERS),
    ("GET", "/api/memorials/{memorial_id}/invitations/", Action.MANAGE_MEMBERS),
    ("POST", "/api/memorials/{memorial_id}/invitations/", Action.MANAGE_MEMBERS),
    ("GET", "/api/memorials/{memorial_id}/photos/", Action.VIEW_PHOTOS),
    ("POST", "/api/memorials/{memorial_id}/photos/", Action.UPLOAD_PHOTOS),
    ("GET", "/api/photos/{photo_id}/", Action.VIEW_PHOTOS),
    ("PATCH", "/api/photos/{photo_id}/", Action.EDIT_PHOTO),
    ("DELETE", "/api/photos/{photo_id}/", Action.DELETE_PHOTO),
    ("GET", "/api/memorials/{memorial_id}/consent/", Action.VIEW_CONSENT),
    ("POST", "/api/memorials/{memorial_id}/consent/", Action.MANAGE_CONSENT),
    ("POST", "/api/consent/{record_id}/withdraw/", Action.WITHDRAW_CONSENT),
    ("POST", "/api/memorials/{memorial_id}/archive/", Action.ARCHIVE_MEMORIAL),
    ("POST", "/api/memorials/{memorial_id}/restore/", Action.DELETE_MEMORIAL),
    ("GET", "/api/memorials/{memorial_id}/export/", Action.EXPORT_MEMORIAL),
    ("GET", "/api/consent/pending/", Action.REVIEW_CONSENT),
    ("POST", "/api/consent/{record_id}/review/", Action.REVIEW_CONSENT),
    ("GET", "/api/memorials/{memorial_id}/jobs/", Action.VIEW_JOBS),
    ("POST", "/api/memorials/{memorial_id}/jobs/", Action.START_GENERATION),
    ("GET", "/api/jobs/{job_id}/", Action.VIEW_JOBS),
    ("POST", "/api/jobs/{job_id}/cancel/", Action.CANCEL_JOB),
    ("POST", "/api/jobs/{job_id}/retry/", Action.START_GENERATION),
    ("GET", "/api/memorials/{memorial_id}/videos/", Action.VIEW_PHOTOS),
    ("GET", "/api/videos/{video_id}/", Action.VIEW_PHOTOS),
    ("GET", "/api/memorials/{memorial_id}/recordings/", Action.VIEW_PHOTOS),
    ("GET", "/api/recordings/{recording_id}/", Action.VIEW_PHOTOS),
    ("DELETE", "/api/recordings/{recording_id}/", Action.DELETE_RECORDING),
    ("POST", "/api/photos/{photo_id}/speak/", Action.START_GENERATION),
    ("POST", "/api/photos/{photo_id}/live/", Action.START_GENERATION),
    ("POST", "/api/photos/{photo_id}/restore/", Action.RESTORE_PHOTO),
    ("POST", "/api/models/{model_id}/film/", Action.START_GENERATION),
    ("POST", "/api/models/{model_id}/continue/", Action.START_GENERATION),
]


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()  # the token endpoint's throttle counts per address in the cache
    yield
    cache.clear()


def as_json(client: Client, method: str, url: str, body=None, **extra):
    data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
    return getattr(client, method.lower())(
        url, data=data or "", content_type="application/json", **extra
    )


def detail_of(response) -> str:
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"], body
    return body["detail"]


# --- Authentication


@pytest.mark.django_db
def test_token_from_email_and_password_opens_the_api(family):
    anonymous = Client()
    response = as_json(
        anonymous, "POST", "/api/auth/token/", {"email": "OWNER@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.get(digest=digest_of(token)).user == family.owner

    listed = Client().get("/api/memorials/", HTTP_AUTHORIZATION=f"Token {token}")
    assert listed.status_code == 200
    assert [m["name"] for m in listed.json()["results"]] == ["Grandma Rose"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "owner@example.org", "password": "wrong-password"},
        {"email": "nobody@example.org", "password": PASSWORD},
    ],
    ids=["wrong-password", "unknown-email"],
)
def test_wrong_credentials_are_a_400_that_says_so(family, credentials):
    response = as_json(Client(), "POST", "/api/auth/token/", credentials)
    assert response.status_code == 400
    assert detail_of(response) == "The e-mail address or password is not correct."


@pytest.mark.django_db
def test_missing_password_names_the_field(family):
    response = as_json(Client(), "POST", "/api/auth/token/", {"email": "owner@example.org"})
    assert response.status_code == 400
    assert detail_of(response).startswith("Password:")


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_with_a_json_answer(family):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        bad = {"email": "owner@example.org", "password": "guess"}
        assert as_json(client, "POST", "/api/auth/token/", bad).status_code in (400, 429)
    good = {"email": "owner@example.org", "password": PASSWORD}
    response = as_json(client, "POST", "/api/auth/token/", good)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert "Too many failed sign-in attempts" in detail_of(response)


@pytest.mark.django_db
def test_token_requests_are_throttled_per_address(family, settings):
    settings.MEMORIAL_API_TOKEN_RATE = "3/minute"
    good = {"email": "viewer@example.org", "password": PASSWORD}
    codes = [as_json(Client(), "POST", "/api/auth/token/", good).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "throttled" in detail_of(as_json(Client(), "POST", "/api/auth/token/", good)).lower()
    # A forged X-Forwarded-For does not buy a fresh allowance.
    forged = as_json(Client(), "POST", "/api/auth/token/", good, HTTP_X_FORWARDED_FOR="10.9.8.7")
    assert forged.status_code == 429


@pytest.mark.django_db
def test_anonymous_calls_get_401_with_a_token_challenge(family):
    response = Client().get(f"/api/memorials/{family.memorial.pk}/photos/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert detail_of(response)


@pytest.mark.django_db
def test_session_calls_need_the_csrf_header_like_the_browser_sends(family):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(family.owner)
    url = f"/api/memorials/{family.memorial.pk}/"
    token = "Memorial0csrf0secret0for0tests00"  # 32 characters, as in the csrftoken cookie
    browser.cookies[settings.CSRF_COOKIE_NAME] = token
    refused = as_json(browser, "PATCH", url, {"biography": "Loved the sea."})
    assert refused.status_code == 403
    assert "CSRF" in detail_of(refused)

    allowed = as_json(
        browser, "PATCH", url, {"biography": "Loved the sea."}, HTTP_X_CSRFTOKEN=token
    )
    assert allowed.status_code == 200
    assert allowed.json()["biography"] == "Loved the sea."


# --- Memorials and roles


@pytest.mark.django_db
def test_lists_hold_only_what_the_policy_lets_each_user_see(family, client_as):
    def names(user) -> list[str]:
        response = client_as(user).get("/api/memorials/")
        assert response.status_code == 200
        return sorted(m["name"] for m in response.json()["results"])

    assert names(family.owner) == names(family.viewer) == ["Grandma Rose"]
    assert names(family.outsider) == ["Uncle Ben"]
    assert names(family.staff) == ["Grandma Rose", "Uncle Ben"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "view", "change", "delete"),
    [
        ("owner", 200, 200, 202),
        ("contributor", 200, 403, 403),
        ("viewer", 200, 403, 403),
        ("staff", 200, 403, 403),
        ("outsider", 404, 404, 404),
    ],
)
def test_memorial_endpoints_by_role(family, client_as, role, view, change, delete):
    client = client_as(family.user(role))
    url = f"/api/memorials/{family.memorial.pk}/"
    assert client.get(url).status_code == view
    assert as_json(client, "PATCH", url, {"name": "Rose"}).status_code == change
    response = client.delete(url)
    assert response.status_code == delete
    # A deletion only starts the cooling-off period (tests/test_retire.py deletes for good).
    memorial = Memorial.objects.get(pk=family.memorial.pk)
    assert memorial.deletion_pending == (delete == 202)
    if delete in (403, 404):
        assert detail_of(response)


@pytest.mark.django_db
def test_memorial_json_says_what_the_user_may_do(family, client_as):
    as_viewer = client_as(family.viewer).get(f"/api/memorials/{family.memorial.pk}/").json()
    assert as_viewer["role"] == "viewer"
    assert not any(as_viewer["can"].values())
    as_owner = client_as(family.owner).get(f"/api/memorials/{family.memorial.pk}/").json()
    assert as_owner["role"] == "owner" and all(as_owner["can"].values())


@pytest.mark.django_db
def test_creating_a_memorial_makes_the_creator_its_owner(family, client_as):
    client = client_as(family.viewer)
    response = as_json(
        client,
        "POST",
        "/api/memorials/",
        {"name": "  Grandpa Li  ", "birth_date": "1931-04-02", "death_date": "2019-11-20"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Grandpa Li" and body["role"] == "owner"
    assert Membership.objects.get(memorial_id=body["id"], user=family.viewer).role == "owner"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        ({"name": "X", "birth_date": "1990-01-01", "death_date": "1980-01-01"}, "before"),
        ({"name": ""}, "may not be blank"),
        ({"name": "X", "death_date": "2999-01-01"}, "future"),
        ({"name": "X" * 201}, "200 characters"),
        ({"name": "X", "id": "00000000-0000-0000-0000-000000000000"}, "id"),
        ({"name": 5, "birth_date": 12}, "Date"),
        ([{"name": "X"}], "dictionary"),
    ],
    ids=["dates-reversed", "blank-name", "future-death", "long-name", "read-only", "types", "list"],
)
def test_memorial_validation(family, client_as, body, phrase):
    response = as_json(client_as(family.owner), "POST", "/api/memorials/", body)
    assert response.status_code == 400
    assert phrase.lower() in detail_of(response).lower()


@pytest.mark.django_db
def test_cover_photo_must_belong_to_the_memorial(family, client_as):
    mine = add_photo(family, 1)
    theirs = ingest_photo(
        memorial=family.other_memorial,
        uploaded=SimpleUploadedFile("x.jpg", images.jpeg(seed=2)),
        user=family.outsider,
        attested=True,
    )
    client = client_as(family.owner)
    url = f"/api/memorials/{family.memorial.pk}/"
    refused = as_json(client, "PATCH", url, {"cover_photo": str(theirs.pk)})
    assert refused.status_code == 400
    assert "not in this memorial" in detail_of(refused)
    accepted = as_json(client, "PATCH", url, {"cover_photo": str(mine.pk)})
    assert accepted.status_code == 200
    assert accepted.json()["cover_url"] == mine.media_url("thumb")


@pytest.mark.django_db
def test_deleting_a_memorial_removes_its_photo_files_after_the_cooling_off_period(
    family, client_as, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from memorial.memorials import retire

    photo = add_photo(family, 3)
    storage, names = photo.image.storage, [photo.image.name, photo.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(family.owner).delete(f"/api/memorials/{family.memorial.pk}/")
    assert response.status_code == 202
    assert response.json()["delete_after"]
    assert Photo.objects.filter(pk=photo.pk).exists()  # nothing goes before the date
    Memorial.objects.filter(pk=family.memorial.pk).update(
        delete_after=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        retire.purge_due()
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert not any(storage.exists(name) for name in names)


# --- Members and invitations


@pytest.mark.django_db
def test_members_list_and_role_change(family, client_as):
    client = client_as(family.owner)
    base = f"/api/memorials/{family.memorial.pk}/members/"
    members = client_as(family.viewer).get(base).json()
    assert {(m["email"], m["role"]) for m in members} == {
        ("owner@example.org", "owner"),
        ("contributor@example.org", "contributor"),
        ("viewer@example.org", "viewer"),
    }
    response = as_json(client, "PATCH", f"{base}{family.viewer.pk}/", {"role": "contributor"})
    assert response.status_code == 200 and response.json()["role"] == "contributor"
    # The change takes effect: the former viewer may now upload.
    upload = client_as(family.viewer).post(
        f"/api/memorials/{family.memorial.pk}/photos/",
        {"file": SimpleUploadedFile("a.jpg", images.jpeg(seed=4)), "attested": "true"},
    )
    assert upload.status_code == 201


@pytest.mark.django_db
def test_the_last_owner_cannot_step_down_or_be_removed(family, client_as):
    client = client_as(family.owner)
    url = f"/api/memorials/{family.memorial.pk}/members/{family.owner.pk}/"
    for response in (as_json(client, "PATCH", url, {"role": "viewer"}), client.delete(url)):
        assert response.status_code == 400
        assert detail_of(response) == "A memorial needs at least one owner."
    assert Membership.objects.get(memorial=family.memorial, user=family.owner).role == "owner"

    # With a second owner, stepping down works.
    promote = f"/api/memorials/{family.memorial.pk}/members/{family.contributor.pk}/"
    assert as_json(client, "PATCH", promote, {"role": "owner"}).status_code == 200
    assert as_json(client, "PATCH", url, {"role": "viewer"}).status_code == 200


@pytest.mark.django_db
def test_removed_members_lose_access(family, client_as):
    url = f"/api/memorials/{family.memorial.pk}/members/{family.viewer.pk}/"
    assert client_as(family.contributor).delete(url).status_code == 403
    assert client_as(family.owner).delete(url).status_code == 204
    response = client_as(family.viewer).get(f"/api/memorials/{family.memorial.pk}/")
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user_id", "body", "status", "phrase"),
    [
        ("viewer", {"role": "admin"}, 400, "not a valid choice"),
        ("viewer", {"role": "viewer", "user": 1}, 400, "unknown"),
        ("outsider", {"role": "viewer"}, 404, "not a member"),
        (10**30, {"role": "viewer"}, 404, "not a member"),
    ],
)
def test_member_change_validation(family, client_as, user_id, body, status, phrase):
    pk = getattr(family, user_id).pk if isinstance(user_id, str) else user_id
    url = f"/api/memorials/{family.memorial.pk}/members/{pk}/"
    response = as_json(client_as(family.owner), "PATCH", url, body)
    assert response.status_code == status
    assert phrase in detail_of(response).lower()


@pytest.mark.django_db
def test_invitations_carry_a_full_link_for_owners_only(family, client_as):
    url = f"/api/memorials/{family.memorial.pk}/invitations/"
    created = as_json(
        client_as(family.owner), "POST", url, {"role": "contributor", "email": "amy@example.org"}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["url"].startswith(settings.SITE_URL + "/accounts/invite/")
    assert body["role"] == "contributor" and body["is_usable"] is True
    assert [i["id"] for i in client_as(family.owner).get(url).json()] == [body["id"]]
    for role, status in (("contributor", 403), ("viewer", 403), ("staff", 403), ("outsider", 404)):
        client = client_as(family.user(role))
        assert client.get(url).status_code == status
        assert as_json(client, "POST", url, {"role": "owner"}).status_code == status
    bad = as_json(client_as(family.owner), "POST", url, {"role": "viewer", "email": "nope"})
    assert bad.status_code == 400 and "e-mail" in detail_of(bad).lower()


# --- Photos


@pytest.mark.django_db
def test_photo_pages(family, client_as, settings):
    settings.PHOTOS_PER_PAGE = 2
    made = [add_photo(family, seed) for seed in range(5)]
    client = client_as(family.viewer)
    url = f"/api/memorials/{family.memorial.pk}/photos/"
    first = client.get(url).json()
    assert first["count"] == 5 and first["previous"] is None
    assert [p["id"] for p in first["results"]] == [str(made[4].pk), str(made[3].pk)]
    seen = [p["id"] for p in first["results"]]
    page = first
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [p["id"] for p in page["results"]]
    assert seen == [str(p.pk) for p in reversed(made)]
    missing = client.get(url + "?page=4")
    assert missing.status_code == 404 and detail_of(missing) == "There is no page 4."
    assert len(client.get(url + "?page_size=4").json()["results"]) == 4


@pytest.mark.django_db
def test_photo_filters_by_tag_and_kind(family, client_as):
    party = add_photo(family, 1, tags=["Birthday", "garden"])
    add_photo(family, 2, tags=["garden"])
    generated = add_photo(family, 3, kind=PhotoKind.GENERATED)
    client = client_as(family.viewer)
    url = f"/api/memorials/{family.memorial.pk}/photos/"

    def ids(query: str) -> set[str]:
        response = client.get(url + query)
        assert response.status_code == 200, response.content
        return {p["id"] for p in response.json()["results"]}

    assert ids("?tag=birthday") == ids("?tag=Birthday") == {str(party.pk)}
    assert len(ids("?tag=garden")) == 2
    assert ids("?tag=nothing") == set()
    assert ids("?kind=generated") == {str(generated.pk)}
    assert len(ids("?kind=uploaded")) == 2
    assert ids("?kind=uploaded&tag=birthday") == {str(party.pk)}
    body = client.get(url + "?kind=generated").json()["results"][0]
    assert body["is_generated"] is True and body["ready_for_training"] is False
    bad = client.get(url + "?kind=fake")
    assert bad.status_code == 400 and "kind" in detail_of(bad).lower()


@pytest.mark.django_db
def test_photo_json_points_at_the_private_media_view(family, client_as):
    photo = add_photo(family, 5, caption="At the lake")
    body = client_as(family.viewer).get(f"/api/photos/{photo.pk}/").json()
    assert body["uploaded_by"] == "Olive Owner"
    assert body["ready_for_training"] is True
    for variant in ("thumb", "display", "original"):
        assert body["urls"][variant] == f"/media/photos/{photo.pk}/{variant}/"
    assert body["urls"]["page"] == photo.get_absolute_url()
    assert settings.MEDIA_URL is None  # nothing else could serve the files
    served = client_as(family.viewer).get(body["urls"]["thumb"])
    assert served.status_code == 200
    assert Image.open(BytesIO(b"".join(served.streaming_content))).format == "JPEG"
    assert client_as(family.outsider).get(body["urls"]["thumb"]).status_code == 404


@pytest.mark.django_db
def test_caption_date_place_and_tags_can_be_edited(family, client_as):
    photo = add_photo(family, 6, tags=["old"])
    response = as_json(
        client_as(family.contributor),
        "PATCH",
        f"/api/photos/{photo.pk}/",
        {
            "caption": "  laughing at a birthday party, wearing a red sweater ",
            "taken_on": "1962-07-14",
            "place": "Brighton",
            "tags": ["Party", "party", " summer  days ", ""],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["caption"] == "laughing at a birthday party, wearing a red sweater"
    assert (body["taken_on"], body["place"]) == ("1962-07-14", "Brighton")
    assert sorted(body["tags"]) == ["party", "summer days"]
    photo.refresh_from_db()
    assert photo.ready_for_training


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "phrase"),
    [
        ("{not json", 400, "not valid json"),
        ('"just a string"', 400, "dictionary"),
        ({"caption": "x" * 1001}, 400, "1000 characters"),
        ({"tags": "birthday"}, 400, "list"),
        ({"tags": ["x" * 51]}, 400, "50 characters"),
        ({"tags": [str(i) for i in range(21)]}, 400, "20"),
        ({"taken_on": "1962-02-30"}, 400, "yyyy-mm-dd"),
        ({"taken_on": "99999-01-01"}, 400, "yyyy-mm-dd"),
        ({"taken_on": 10**40}, 400, "date"),
        ({"width": 10}, 400, "width"),
        ({"caption": "a\u0000b"}, 400, "null characters"),
        ("[" * 100_000 + "]" * 100_000, 400, "nested too deeply"),
    ],
    ids=[
        "malformed",
        "not-an-object",
        "long-caption",
        "tags-not-list",
        "long-tag",
        "many-tags",
        "impossible-date",
        "huge-year",
        "huge-number",
        "read-only-field",
        "nul",
        "deep-nesting",
    ],
)
def test_bad_photo_edits_are_4xx_with_a_reason(family, client_as, body, status, phrase):
    photo = add_photo(family, 7)
    response = as_json(client_as(family.owner), "PATCH", f"/api/photos/{photo.pk}/", body)
    assert response.status_code == status, response.content
    assert phrase in detail_of(response).lower()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "view", "edit"),
    [
        ("owner", 200, 200),
        ("contributor", 200, 200),
        ("viewer", 200, 403),
        ("staff", 200, 403),
        ("outsider", 404, 404),
    ],
)
def test_photo_view_and_edit_by_role(family, client_as, role, view, edit):
    photo = add_photo(family, 8)
    client = client_as(family.user(role))
    assert client.get(f"/api/photos/{photo.pk}/").status_code == view
    response = as_json(client, "PATCH", f"/api/photos/{photo.pk}/", {"caption": "x"})
    assert response.status_code == edit


@pytest.mark.django_db
def test_contributors_delete_only_their_own_photos(
    family, client_as, django_capture_on_commit_callbacks
):
    owners = add_photo(family, 9)
    theirs = add_photo(family, 10, user=family.contributor)
    client = client_as(family.contributor)
    refused = client.delete(f"/api/photos/{owners.pk}/")
    assert refused.status_code == 403 and detail_of(refused) == "You may not delete this photo."
    assert client.get(f"/api/photos/{owners.pk}/").json()["can"] == {"edit": True, "delete": False}
    storage, name = theirs.image.storage, theirs.image.name
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/photos/{theirs.pk}/").status_code == 204
    assert not Photo.objects.filter(pk=theirs.pk).exists()
    assert not storage.exists(name)
    assert client.get(f"/api/photos/{theirs.pk}/").status_code == 404
    assert client_as(family.viewer).delete(f"/api/photos/{owners.pk}/").status_code == 403
    assert client_as(family.owner).delete(f"/api/photos/{owners.pk}/").status_code == 204


@pytest.mark.django_db
def test_hidden_photos_are_not_listed_or_served(family, client_as):
    photo = add_photo(family, 11)
    Photo.objects.filter(pk=photo.pk).update(hidden=True)
    client = client_as(family.owner)
    assert client.get(f"/api/memorials/{family.memorial.pk}/photos/").json()["count"] == 0
    assert client.get(f"/api/photos/{photo.pk}/").status_code == 404


# --- Consent


def consent_body(**overrides):
    return {
        "attester_name": "Mary Rose",
        "relationship": "daughter",
        "basis": "next_of_kin",
        "scopes": ["training", "generated_photos", "training"],
        "statement": "Mum would have loved this.",
        **overrides,
    }


@pytest.mark.django_db
def test_owner_records_consent_which_waits_for_review(family, client_as):
    url = f"/api/memorials/{family.memorial.pk}/consent/"
    response = as_json(client_as(family.owner), "POST", url, consent_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["attested_by"] == "Olive Owner"
    assert body["scopes"] == ["training", "generated_photos"]
    assert body["has_evidence"] is False and body["evidence_url"] is None
    decision = may_use(family.memorial, Scope.TRAINING)
    assert not decision and "waiting for review" in decision.reason
    listed = client_as(family.viewer).get(url)
    assert [r["id"] for r in listed.json()] == [body["id"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "phrase"),
    [
        ({"scopes": []}, "may not be empty"),
        ({"scopes": ["everything"]}, "not a valid choice"),
        ({"scopes": "training"}, "list"),
        ({"basis": "because"}, "not a valid choice"),
        ({"attester_name": ""}, "blank"),
        ({"status": "approved"}, "status"),
    ],
    ids=["no-scope", "unknown-scope", "scope-not-list", "bad-basis", "no-name", "self-approve"],
)
def test_consent_validation(family, client_as, overrides, phrase):
    url = f"/api/memorials/{family.memorial.pk}/consent/"
    response = as_json(client_as(family.owner), "POST", url, consent_body(**overrides))
    assert response.status_code == 400
    assert phrase in detail_of(response).lower()
    assert not ConsentRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("contributor", 403), ("viewer", 403), ("staff", 403)]
)
def test_only_owners_record_consent(family, client_as, role, status):
    url = f"/api/memorials/{family.memorial.pk}/consent/"
    response = as_json(client_as(family.user(role)), "POST", url, consent_body())
    assert response.status_code == status
    assert "consent" in detail_of(response)


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("will.pdf", PDF, 201),
        ("letter.jpg", images.jpeg(seed=12), 201),
        ("will.pdf", b"<html><script>alert(1)</script></html>", 415),
        ("will.pdf", PDF[:-7], 400),
        ("will.pdf", b"", 400),
    ],
    ids=["pdf", "picture", "html-as-pdf", "cut-short-pdf", "empty"],
)
def test_consent_evidence_is_checked_by_content(family, client_as, name, content, status):
    response = client_as(family.owner).post(
        f"/api/memorials/{family.memorial.pk}/consent/",
        {
            **consent_body(scopes=["training", "voice"]),
            "evidence": SimpleUploadedFile(name, content),
        },
    )
    assert response.status_code == status, response.content
    if status != 201:
        assert detail_of(response)
        assert not ConsentRecord.objects.exists()
        return
    body = response.json()
    assert body["scopes"] == ["training", "voice"] and body["has_evidence"] is True
    record = ConsentRecord.objects.get(pk=body["id"])
    assert body["evidence_url"] == f"/media/consent/{record.pk}/evidence/"
    with record.evidence.open("rb") as handle:
        stored = handle.read()
    if content.startswith(b"%PDF"):
        assert stored == content
    else:  # pictures are re-encoded, so no metadata travels with them
        assert Image.open(BytesIO(stored)).format == "JPEG"


@pytest.mark.django_db
def test_withdrawing_consent(family, client_as):
    record = ConsentRecord.objects.create(
        memorial=family.memorial,
        attester_name="Mary",
        relationship="daughter",
        basis="next_of_kin",
        scopes=["training"],
        status=Status.APPROVED,
    )
    assert may_use(family.memorial, Scope.TRAINING)
    url = f"/api/consent/{record.pk}/withdraw/"
    assert client_as(family.contributor).post(url).status_code == 403
    assert client_as(family.outsider).post(url).status_code == 404
    response = client_as(family.owner).post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert response.json()["status_changed_at"]
    decision = may_use(family.memorial, Scope.TRAINING)
    assert not decision and "withdrawn" in decision.reason
    again = client_as(family.owner).post(url)
    assert again.status_code == 409
    assert detail_of(again) == "This consent has already been withdrawn."


# --- Robustness and the schema


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/photos/not-a-uuid/",
        "/api/memorials/123/",
        "/api/memorials/00000000-0000-0000-0000-000000000000/members/-1/",
        "/api/nothing-here/",
    ],
)
def test_unknown_addresses_answer_json_404(family, client_as, path):
    response = client_as(family.owner).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert detail_of(response) == "There is no API endpoint at this address."


@pytest.mark.django_db
def test_a_missing_slash_is_pointed_out(family, client_as):
    response = client_as(family.owner).get("/api/memorials")
    assert response.status_code == 404
    assert detail_of(response).endswith("did you mean “/api/memorials/”?")


@pytest.mark.django_db
def test_big_json_bodies_are_refused_before_reading(family, client_as):
    photo = add_photo(family, 13)
    body = {"caption": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    response = as_json(client_as(family.owner), "PATCH", f"/api/photos/{photo.pk}/", body)
    assert response.status_code == 413
    assert "larger than the limit" in detail_of(response)


@pytest.mark.django_db
def test_unsupported_methods_are_405(family, client_as):
    response = as_json(client_as(family.owner), "PUT", f"/api/memorials/{family.memorial.pk}/", {})
    assert response.status_code == 405
    assert "PUT" in detail_of(response)


@pytest.mark.django_db
def test_schema_documents_every_endpoint_and_its_errors(client_as, family):
    response = client_as(None).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "patch", "put", "delete")
    }
    assert operations == {(method, path) for method, path, _action in ENDPOINTS}

    upload = schema["paths"]["/api/memorials/{memorial_id}/photos/"]["post"]
    assert set(upload["requestBody"]["content"]) == {"multipart/form-data"}
    assert {"400", "401", "403", "404", "409", "413", "415"} <= set(upload["responses"])
    assert "existing" in json.dumps(schema["components"]["schemas"]["Duplicate"])
    patch = schema["paths"]["/api/photos/{photo_id}/"]["patch"]
    assert {"400", "403", "404"} <= set(patch["responses"])
    request = schema["components"]["schemas"]["PatchedPhotoUpdateRequest"]
    assert set(request["properties"]) == {"caption", "taken_on", "place", "tags"}
    assert request["additionalProperties"] is False


@pytest.mark.django_db
def test_swagger_ui_is_served_from_our_own_static_files(client_as, family):
    response = client_as(family.owner).get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "https://" not in html and "http://" not in html  # no CDN
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
