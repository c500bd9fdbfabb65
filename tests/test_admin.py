"""The Django admin works for superusers and never exposes a storage URL for private files."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from memorial.memorials.ingest import ingest_photo
from tests import images


@pytest.mark.django_db
def test_admin_pages_open_and_link_media_only_through_the_checked_view(
    family, make_user, client_as
):
    photo = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("rose.jpg", images.jpeg(seed=3)),
        user=family.owner,
        attested=True,
    )
    admin = make_user("root@example.org", is_staff=True, is_superuser=True)
    client = client_as(admin)
    for url in (
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{family.owner.pk}/change/",
        "/admin/memorials/memorial/",
        f"/admin/memorials/memorial/{family.memorial.pk}/change/",
        "/admin/memorials/photo/",
        f"/admin/memorials/photo/{photo.pk}/change/",
        "/admin/consent/consentrecord/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/admin/memorials/photo/{photo.pk}/change/").content.decode()
    assert photo.media_url("thumb") in page
    assert photo.image.name not in page  # no storage path, let alone a storage URL


@pytest.mark.django_db
def test_admin_shows_consent_withdrawals_read_only(family, make_user, client_as):
    """Staff can look up what a withdrawal deleted, but nobody can edit or delete that record."""
    from memorial.consent.models import ConsentRecord, Withdrawal

    record = ConsentRecord.objects.create(
        memorial=family.memorial,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=["training"],
        attested_by=family.owner,
    )
    withdrawal = Withdrawal.objects.create(
        memorial=family.memorial,
        record=record,
        requested_by=family.owner,
        removed=[{"kind": "model", "id": "1", "memorial": str(family.memorial.pk)}],
    )
    client = client_as(make_user("root@example.org", is_staff=True, is_superuser=True))
    listing = client.get("/admin/consent/withdrawal/")
    assert listing.status_code == 200
    assert str(family.memorial) in listing.content.decode()
    change_url = f"/admin/consent/withdrawal/{withdrawal.pk}/change/"
    detail = client.get(change_url)
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()  # view only: no save button
    assert client.post(f"/admin/consent/withdrawal/{withdrawal.pk}/delete/").status_code == 403
    assert client.get("/admin/consent/withdrawal/add/").status_code == 403
    assert Withdrawal.objects.filter(pk=withdrawal.pk).exists()
