"""The server-rendered pages: dashboard, memorial forms, gallery, photo page, upload,
members and consent, each as the family member who uses it (and those who may not)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from memorial.accounts.models import Invitation
from memorial.consent.models import ConsentRecord, Scope, Status
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Membership, Memorial, Photo, PhotoKind, Role
from tests import images
from tests.factories import add_photo

pytestmark = pytest.mark.django_db


def url(name: str, family, *args) -> str:
    return reverse(name, args=[family.memorial.pk, *args])


def text(response) -> str:
    return response.content.decode()


# --- access -------------------------------------------------------------------------------


PAGES = [
    "memorials:gallery",
    "memorials:edit",
    "memorials:upload",
    "memorials:members",
    "consent:list",
]


@pytest.mark.parametrize("name", [*PAGES, "memorials:dashboard", "memorials:create"])
def test_anonymous_visitors_are_sent_to_sign_in(family, name):
    target = (
        reverse(name) if name in {"memorials:dashboard", "memorials:create"} else url(name, family)
    )
    response = Client().get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("name", PAGES)
def test_people_outside_the_family_get_a_friendly_404(family, client_as, name):
    response = client_as(family.outsider).get(url(name, family))
    assert response.status_code == 404
    assert "We could not find this page" in text(response)
    assert "Grandma Rose" not in text(response)


@pytest.mark.parametrize(
    ("role", "name", "status"),
    [
        ("viewer", "memorials:gallery", 200),
        ("viewer", "memorials:members", 200),
        ("viewer", "consent:list", 200),
        ("viewer", "memorials:upload", 403),
        ("viewer", "memorials:edit", 403),
        ("contributor", "memorials:upload", 200),
        ("contributor", "memorials:edit", 403),
        ("owner", "memorials:edit", 200),
        ("staff", "memorials:gallery", 200),
        ("staff", "memorials:upload", 403),
    ],
)
def test_each_role_sees_what_the_policy_allows(family, client_as, role, name, status):
    response = client_as(family.user(role)).get(url(name, family))
    assert response.status_code == status
    if status == 403:
        assert "Not allowed" in text(response)


# --- dashboard and memorial forms -------------------------------------------------------------


def test_dashboard_lists_my_memorials_with_cover_or_shows_an_empty_state(
    family, client_as, make_user
):
    photo = add_photo(family, 1, "On the porch")
    family.memorial.cover_photo = photo
    family.memorial.save()
    page = text(client_as(family.owner).get(reverse("memorials:dashboard")))
    assert "Grandma Rose" in page and "Uncle Ben" not in page
    assert reverse("memorials:media", args=[photo.pk, "thumb"]) in page

    newcomer = make_user("new@example.org")
    empty = text(client_as(newcomer).get(reverse("memorials:dashboard")))
    assert "Create a memorial" in empty and reverse("memorials:create") in empty


def test_dashboard_without_a_chosen_cover_shows_the_newest_family_photo(family, client_as):
    add_photo(family, 60, "Older")
    newest = add_photo(family, 61, "Newest")
    add_photo(family, 62, "Made", kind=PhotoKind.GENERATED)
    page = text(client_as(family.owner).get(reverse("memorials:dashboard")))
    assert reverse("memorials:media", args=[newest.pk, "thumb"]) in page
    assert "2 photos · 1 AI-made" in page  # real and AI-made counted apart


def test_create_memorial_makes_me_its_owner(family, client_as):
    client = client_as(family.viewer)
    response = client.post(
        reverse("memorials:create"),
        {
            "name": "  Aunt   May ",
            "birth_date": "1930-04-02",
            "death_date": "2020-01-09",
            "biography": "",
        },
    )
    memorial = Memorial.objects.get(name="Aunt May")
    assert response.status_code == 302 and response["Location"] == memorial.get_absolute_url()
    assert Membership.objects.get(memorial=memorial, user=family.viewer).role == Role.OWNER
    assert memorial.birth_date == date(1930, 4, 2)


@pytest.mark.parametrize(
    ("birth", "death", "message"),
    [
        ("1990-05-01", "1980-01-01", "cannot be before the date of birth"),
        ("1950-01-01", "2999-01-01", "cannot be in the future"),
        ("not-a-date", "", "Enter a valid date"),
    ],
)
def test_memorial_dates_are_checked(family, client_as, birth, death, message):
    response = client_as(family.owner).post(
        reverse("memorials:create"), {"name": "Someone", "birth_date": birth, "death_date": death}
    )
    assert response.status_code == 400
    assert message in text(response)
    assert not Memorial.objects.filter(name="Someone").exists()


def test_edit_details_and_choose_a_cover_from_this_memorials_photos(family, client_as):
    photo = add_photo(family, 2, "Garden")
    client = client_as(family.owner)
    form = client.get(url("memorials:edit", family))
    assert reverse("memorials:media", args=[photo.pk, "thumb"]) in text(form)
    response = client.post(
        url("memorials:edit", family),
        {"name": "Grandma Rose", "birth_date": "1931-02-03", "cover_photo": str(photo.pk)},
    )
    assert response.status_code == 302
    family.memorial.refresh_from_db()
    assert family.memorial.cover_photo == photo
    assert family.memorial.birth_date == date(1931, 2, 3)

    stranger = ingest_photo(
        memorial=family.other_memorial,
        uploaded=SimpleUploadedFile("x.jpg", images.jpeg(seed=3, width=64, height=48)),
        user=family.outsider,
        attested=True,
    )
    refused = client.post(
        url("memorials:edit", family), {"name": "R", "cover_photo": str(stranger.pk)}
    )
    assert refused.status_code == 400
    family.memorial.refresh_from_db()
    assert family.memorial.cover_photo == photo and family.memorial.name == "Grandma Rose"


def test_cover_photo_can_be_cleared(family, client_as):
    photo = add_photo(family, 63, "Cover")
    family.memorial.cover_photo = photo
    family.memorial.save()
    client = client_as(family.owner)
    assert "No cover photo" in text(client.get(url("memorials:edit", family)))
    response = client.post(
        url("memorials:edit", family), {"name": "Grandma Rose", "cover_photo": ""}
    )
    assert response.status_code == 302
    family.memorial.refresh_from_db()
    assert family.memorial.cover_photo is None


# --- gallery ----------------------------------------------------------------------------------


def test_gallery_shows_captions_escaped(family, client_as):
    add_photo(family, 4, '<script>alert("x")</script> & <b>bold</b>')
    page = text(client_as(family.viewer).get(url("memorials:gallery", family)))
    assert "<script>alert" not in page
    assert "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


def test_gallery_filters_by_kind_and_labels_generated_photos(family, client_as):
    real = add_photo(family, 5, "Real photo at the lake")
    made = add_photo(family, 6, "Smiling by a window", kind=PhotoKind.GENERATED)
    client = client_as(family.viewer)

    everything = text(client.get(url("memorials:gallery", family)))
    assert str(real.pk) in everything and str(made.pk) in everything
    tiles = re.findall(r'<li class="photo-tile[^"]*"[\s\S]*?</li>', everything)
    generated_tile = next(t for t in tiles if str(made.pk) in t)
    real_tile = next(t for t in tiles if str(real.pk) in t)
    assert 'class="badge badge--ai"' in generated_tile and "AI-generated" in generated_tile
    assert 'alt="AI-generated image: Smiling by a window"' in generated_tile
    assert "badge--ai" not in real_tile and 'alt="Real photo at the lake"' in real_tile

    only_generated = text(client.get(url("memorials:gallery", family), {"kind": "generated"}))
    assert str(made.pk) in only_generated and str(real.pk) not in only_generated
    only_uploaded = text(client.get(url("memorials:gallery", family), {"kind": "uploaded"}))
    assert str(real.pk) in only_uploaded and str(made.pk) not in only_uploaded


def test_gallery_filters_by_tag(family, client_as):
    beach = add_photo(family, 7, "Beach", tags=["Summer", "sea"])
    home = add_photo(family, 8, "Home", tags=["winter"])
    page = text(client_as(family.viewer).get(url("memorials:gallery", family), {"tag": "summer"}))
    assert str(beach.pk) in page and str(home.pk) not in page
    assert '<option value="summer" selected>' in page


def test_gallery_pages_through_photos(family, client_as, settings):
    settings.PHOTOS_PER_PAGE = 2
    photos = [add_photo(family, 10 + i, f"Photo {i}") for i in range(5)]
    client = client_as(family.viewer)
    seen = []
    for number in (1, 2, 3):
        response = client.get(url("memorials:gallery", family), {"page": number})
        assert response.status_code == 200
        seen.extend(str(p.pk) for p in response.context["photos"])
    assert sorted(seen) == sorted(str(p.pk) for p in photos)
    assert len(set(seen)) == 5
    first = text(client.get(url("memorials:gallery", family)))
    assert 'rel="next"' in first and "?page=2" in first
    # Out-of-range or nonsense pages show a real page rather than an error.
    assert client.get(url("memorials:gallery", family), {"page": "999"}).status_code == 200
    assert client.get(url("memorials:gallery", family), {"page": "x"}).status_code == 200


def test_gallery_counts_and_filters_photos_that_need_a_caption(family, client_as):
    add_photo(family, 20, "Described")
    bare = add_photo(family, 21, "")
    add_photo(family, 22, "", kind=PhotoKind.GENERATED)  # generated ones are not trained on
    client = client_as(family.contributor)
    response = client.get(url("memorials:gallery", family))
    assert response.context["needs_caption_count"] == 1
    assert "1 photo still needs a caption." in text(response)
    # The nudge leads to the caption editor's "needs a caption" list.
    assert f'href="/m/{family.memorial.pk}/captions/?needs=1"' in text(response)
    only = client.get(url("memorials:gallery", family), {"uncaptioned": "1"})
    assert [p.pk for p in only.context["photos"]] == [bare.pk]
    # A viewer cannot describe photos: no nudge to do it.
    seen_by_viewer = client_as(family.viewer).get(url("memorials:gallery", family))
    assert "still needs a caption" not in text(seen_by_viewer)


def test_gallery_edit_controls_only_for_contributors_and_owners(family, client_as):
    add_photo(family, 23, "")
    assert "data-caption-edit" in text(
        client_as(family.contributor).get(url("memorials:gallery", family))
    )
    assert "data-caption-edit" not in text(
        client_as(family.viewer).get(url("memorials:gallery", family))
    )


def test_gallery_shows_why_generation_is_unavailable(family, client_as):
    ConsentRecord.objects.create(
        memorial=family.memorial,
        attester_name="Olive",
        relationship="daughter",
        basis="next_of_kin",
        scopes=[Scope.TRAINING],
        status=Status.APPROVED,
    )
    page = text(client_as(family.viewer).get(url("memorials:gallery", family)))
    panel = page[page.index('id="consent-panel-title"') :]
    assert 'data-scope="training"' in panel
    assert re.search(r'consent-item--allowed" data-scope="training"', panel)
    assert re.search(r'consent-item--blocked" data-scope="generated_photos"', panel)
    assert "has been recorded for this memorial" in panel
    assert 'id="generation"' in panel


# --- photo page -------------------------------------------------------------------------------


def test_photo_page_shows_details_and_saves_edits(family, client_as):
    photo = add_photo(family, 30, "Old caption", tags=["family"])
    client = client_as(family.contributor)
    photo_url = url("memorials:photo", family, photo.pk)
    page = text(client.get(photo_url))
    assert reverse("memorials:media", args=[photo.pk, "display"]) in page
    assert "Old caption" in page and "family" in page
    response = client.post(
        photo_url,
        {
            "caption": " At the <i>harbour</i> ",
            "taken_on": "1975-07-14",
            "place": "Hull",
            "tags": "Sea, summer , sea",
        },
    )
    assert response.status_code == 302
    photo.refresh_from_db()
    assert photo.caption == "At the <i>harbour</i>"
    assert photo.taken_on == date(1975, 7, 14) and photo.place == "Hull"
    assert sorted(photo.tags.values_list("name", flat=True)) == ["sea", "summer"]
    shown = text(client.get(photo_url))
    assert "At the &lt;i&gt;harbour&lt;/i&gt;" in shown and "<i>harbour</i>" not in shown


def test_photo_edit_rejects_bad_dates_and_viewers(family, client_as):
    photo = add_photo(family, 31, "Caption")
    photo_url = url("memorials:photo", family, photo.pk)
    bad = client_as(family.owner).post(photo_url, {"caption": "x", "taken_on": "3000-01-01"})
    assert bad.status_code == 400 and "cannot be in the future" in text(bad)
    assert client_as(family.viewer).post(photo_url, {"caption": "hacked"}).status_code == 403
    photo.refresh_from_db()
    assert photo.caption == "Caption"
    other = url("memorials:photo", family, family.memorial.pk)  # an id that is not a photo here
    assert client_as(family.owner).get(other).status_code == 404


def test_delete_photo_after_confirmation_following_the_policy(family, client_as):
    mine = add_photo(family, 32, "Contributor's", user=family.contributor)
    owners = add_photo(family, 33, "Owner's")
    contributor = client_as(family.contributor)
    confirm = contributor.get(url("memorials:photo_delete", family, mine.pk))
    assert confirm.status_code == 200 and "cannot be undone" in text(confirm)
    assert contributor.post(url("memorials:photo_delete", family, owners.pk)).status_code == 403
    assert (
        client_as(family.viewer).post(url("memorials:photo_delete", family, mine.pk)).status_code
        == 403
    )
    response = contributor.post(url("memorials:photo_delete", family, mine.pk))
    assert response.status_code == 302
    assert not Photo.objects.filter(pk=mine.pk).exists()
    assert (
        client_as(family.owner).post(url("memorials:photo_delete", family, owners.pk)).status_code
        == 302
    )
    assert not Photo.objects.filter(pk=owners.pk).exists()


def test_owner_sets_the_cover_photo(family, client_as):
    photo = add_photo(family, 34, "Cover me")
    photo_url = url("memorials:photo", family, photo.pk)
    assert client_as(family.contributor).post(photo_url, {"action": "cover"}).status_code == 403
    assert client_as(family.owner).post(photo_url, {"action": "cover"}).status_code == 302
    family.memorial.refresh_from_db()
    assert family.memorial.cover_photo == photo


# --- upload page --------------------------------------------------------------------------------


def test_upload_page_has_the_hooks_the_browser_test_uses(family, client_as):
    page = text(client_as(family.contributor).get(url("memorials:upload", family)))
    for hook in (
        'id="dropzone"',
        'id="file-input"',
        'id="attested"',
        'id="overall-progress"',
        'id="upload-list"',
    ):
        assert hook in page
    assert "I have the right to share these photos" in page
    assert f'data-api-url="/api/memorials/{family.memorial.pk}/photos/"' in page
    assert re.search(r'<input type="file" id="file-input" name="file"[^>]* multiple', page)


def test_upload_form_without_script_stores_each_file_and_reports_each_failure(family, client_as):
    existing = add_photo(family, 40, "Already here")
    client = client_as(family.contributor)
    files = [
        SimpleUploadedFile("new.jpg", images.jpeg(seed=41, width=80, height=60)),
        SimpleUploadedFile("again.jpg", images.jpeg(seed=40, width=96, height=72)),
        SimpleUploadedFile("page.jpg", b"<html><script>alert(1)</script></html>"),
    ]
    response = client.post(
        url("memorials:upload", family), {"attested": "true", "file": files, "tags": "garden"}
    )
    assert response.status_code == 200
    page = text(response)
    assert page.count('class="upload-row"') == 3
    assert existing.original_filename in page  # the duplicate message names the first photo
    stored = Photo.objects.get(memorial=family.memorial, original_filename="new.jpg")
    assert list(stored.tags.values_list("name", flat=True)) == ["garden"]
    assert Photo.objects.filter(memorial=family.memorial).count() == 2


def test_upload_without_attestation_stores_nothing(family, client_as):
    response = client_as(family.owner).post(
        url("memorials:upload", family),
        {"file": [SimpleUploadedFile("a.jpg", images.jpeg(seed=42, width=64, height=48))]},
    )
    assert response.status_code == 400
    assert "right to share" in text(response)
    assert not Photo.objects.filter(memorial=family.memorial).exists()


# --- members --------------------------------------------------------------------------------------


def _membership(family, role_name):
    return Membership.objects.get(memorial=family.memorial, user=family.user(role_name))


def test_members_page_lists_roles_and_only_owners_manage(family, client_as):
    viewer_page = text(client_as(family.viewer).get(url("memorials:members", family)))
    assert "Cara Contributor" in viewer_page and "Olive Owner" in viewer_page
    assert 'name="action" value="invite"' not in viewer_page
    owner_page = text(client_as(family.owner).get(url("memorials:members", family)))
    assert 'name="action" value="invite"' in owner_page
    response = client_as(family.contributor).post(
        url("memorials:members", family), {"action": "invite", "role": "owner"}
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_owner_creates_an_invitation_link_and_it_is_mailed(family, client_as):
    client = client_as(family.owner)
    response = client.post(
        url("memorials:members", family),
        {"action": "invite", "role": "viewer", "email": "Cousin@Example.org"},
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get(memorial=family.memorial)
    assert (invitation.role, invitation.email, invitation.created_by) == (
        "viewer",
        "cousin@example.org",
        family.owner,
    )
    page = text(client.get(response["Location"]))
    link = f"http://testserver{invitation.get_absolute_url()}"
    assert f'value="{link}"' in page and "data-copy=" in page
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["cousin@example.org"] and link in mail.outbox[0].body
    assert "Grandma Rose" in mail.outbox[0].subject


def test_invitation_without_e_mail_sends_nothing_and_bad_input_is_explained(family, client_as):
    client = client_as(family.owner)
    assert (
        client.post(
            url("memorials:members", family), {"action": "invite", "role": "contributor"}
        ).status_code
        == 302
    )
    assert mail.outbox == []
    bad = client.post(
        url("memorials:members", family), {"action": "invite", "role": "king", "email": "nope"}
    )
    assert bad.status_code == 400
    assert Invitation.objects.count() == 1


def test_owner_revokes_an_invitation(family, client_as):
    invitation = Invitation.objects.create(
        memorial=family.memorial, role="viewer", created_by=family.owner
    )
    response = client_as(family.owner).post(
        url("memorials:members", family), {"action": "revoke", "invitation": invitation.pk}
    )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert Client().get(invitation.get_absolute_url()).status_code == 410
    other = Invitation.objects.create(memorial=family.other_memorial, role="viewer")
    assert (
        client_as(family.owner)
        .post(url("memorials:members", family), {"action": "revoke", "invitation": other.pk})
        .status_code
        == 404
    )


def test_owner_changes_roles_and_removes_members(family, client_as):
    client = client_as(family.owner)
    membership = _membership(family, "viewer")
    response = client.post(
        url("memorials:members", family),
        {"action": "role", "membership": membership.pk, "role": "contributor"},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.CONTRIBUTOR
    removed = _membership(family, "contributor")
    client.post(url("memorials:members", family), {"action": "remove", "membership": removed.pk})
    assert not Membership.objects.filter(pk=removed.pk).exists()
    assert client_as(family.contributor).get(url("memorials:gallery", family)).status_code == 404


def test_the_last_owner_is_protected_with_a_message(family, client_as):
    client = client_as(family.owner)
    owner = _membership(family, "owner")
    for data in (
        {"action": "role", "membership": owner.pk, "role": "viewer"},
        {"action": "remove", "membership": owner.pk},
    ):
        response = client.post(url("memorials:members", family), data, follow=True)
        assert response.status_code == 200
        assert "needs at least one owner" in text(response)
        owner.refresh_from_db()
        assert owner.role == Role.OWNER


def test_members_actions_with_bad_ids_are_404_not_500(family, client_as):
    client = client_as(family.owner)
    for value in ("abc", "²", "", "99999"):
        response = client.post(
            url("memorials:members", family), {"action": "remove", "membership": value}
        )
        assert response.status_code == 404


# --- consent ------------------------------------------------------------------------------------------


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _consent_data(**extra):
    data = {
        "attester_name": "Olive Owner",
        "relationship": "daughter",
        "basis": "next_of_kin",
        "scopes": ["training", "generated_photos"],
        "statement": "Mum loved <em>photos</em>.",
    }
    data.update(extra)
    return data


def test_owner_records_consent_with_evidence_that_members_can_open(family, client_as):
    client = client_as(family.owner)
    evidence = SimpleUploadedFile("letter.pdf", PDF, content_type="application/pdf")
    response = client.post(url("consent:list", family), _consent_data(evidence=evidence))
    assert response.status_code == 302
    record = ConsentRecord.objects.get(memorial=family.memorial)
    assert record.status == Status.PENDING and record.attested_by == family.owner
    assert record.scopes == ["training", "generated_photos"]
    page = text(client.get(url("consent:list", family)))
    assert "Pending review" in page and "Mum loved &lt;em&gt;photos&lt;/em&gt;." in page
    assert "is waiting for review" in page

    evidence_url = reverse("consent:evidence", args=[record.pk])
    served = client_as(family.viewer).get(evidence_url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PDF
    assert served["Content-Type"] == "application/pdf"
    assert client_as(family.outsider).get(evidence_url).status_code == 404
    assert Client().get(evidence_url).status_code == 302


def test_consent_needs_a_scope_and_a_real_document(family, client_as):
    client = client_as(family.owner)
    no_scope = client.post(url("consent:list", family), _consent_data(scopes=[]))
    assert no_scope.status_code == 400 and "at least one use" in text(no_scope)
    fake = SimpleUploadedFile("will.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    bad = client.post(url("consent:list", family), _consent_data(evidence=fake))
    assert bad.status_code == 400 and "must be a PDF or a picture" in text(bad)
    big = SimpleUploadedFile(
        "big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), content_type="application/pdf"
    )
    too_big = client.post(url("consent:list", family), _consent_data(evidence=big))
    assert too_big.status_code == 400 and "larger than 10 MB" in text(too_big)
    assert not ConsentRecord.objects.exists()


def test_picture_evidence_is_stored_without_metadata(family, client_as):
    from PIL import Image

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}
    scan = SimpleUploadedFile(
        "scan.jpg", images.jpeg(seed=50, width=120, height=90, exif=exif.tobytes())
    )
    client_as(family.owner).post(url("consent:list", family), _consent_data(evidence=scan))
    record = ConsentRecord.objects.get(memorial=family.memorial)
    served = client_as(family.owner).get(reverse("consent:evidence", args=[record.pk]))
    assert served["Content-Type"] == "image/jpeg"
    import io

    assert not Image.open(io.BytesIO(b"".join(served.streaming_content))).getexif()


def test_only_owners_record_or_withdraw_consent(family, client_as):
    assert (
        client_as(family.contributor).post(url("consent:list", family), _consent_data()).status_code
        == 403
    )
    record = ConsentRecord.objects.create(
        memorial=family.memorial,
        attester_name="O",
        relationship="son",
        basis="executor",
        scopes=["training"],
    )
    withdraw = reverse("consent:withdraw", args=[family.memorial.pk, record.pk])
    assert client_as(family.contributor).post(withdraw).status_code == 403
    assert client_as(family.outsider).post(withdraw).status_code == 404
    record.refresh_from_db()
    assert record.status == Status.PENDING


def test_owner_withdraws_approved_consent(family, client_as):
    record = ConsentRecord.objects.create(
        memorial=family.memorial,
        attester_name="O",
        relationship="son",
        basis="executor",
        scopes=["training"],
        status=Status.APPROVED,
    )
    before = timezone.now()
    client = client_as(family.owner)
    assert "Consent approved" in text(client.get(url("memorials:gallery", family)))
    response = client.post(reverse("consent:withdraw", args=[family.memorial.pk, record.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == Status.WITHDRAWN and record.status_changed_at >= before
    assert "was withdrawn" in text(client.get(url("memorials:gallery", family)))
    again = client.post(
        reverse("consent:withdraw", args=[family.memorial.pk, record.pk]), follow=True
    )
    assert "Only pending or approved consent can be withdrawn." in text(again)


def test_error_pages_render_without_a_request():
    from django.template.loader import render_to_string

    assert "Something went wrong" in render_to_string("500.html")
    assert "could not be understood" in render_to_string("400.html")


def test_a_stale_form_gets_a_friendly_csrf_page(family):
    client = Client(enforce_csrf_checks=True)
    client.force_login(family.owner)
    response = client.post(reverse("memorials:create"), {"name": "X"})
    assert response.status_code == 403
    assert "reload the page" in text(response)
    assert not Memorial.objects.filter(name="X").exists()
