"""Signed-in answers are never kept by a cache: "Cache-Control: private, no-store" on pages, API
answers and media, while anonymous public pages and static files keep their own caching."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from memorial.accounts import tokens
from memorial.memorials.ingest import ingest_photo
from tests import images

pytestmark = pytest.mark.django_db

PRIVATE = "private, no-store"


def test_a_signed_in_page_is_not_stored(family, client_as):
    response = client_as(family.viewer).get(family.memorial.get_absolute_url())
    assert response.status_code == 200
    assert response["Cache-Control"] == PRIVATE


def test_an_api_answer_with_a_session_is_not_stored(family, client_as):
    response = client_as(family.viewer).get("/api/memorials/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == PRIVATE


def test_an_api_answer_to_a_token_is_not_stored(family):
    """Any Authorization header marks the answer private, whether the token works or not."""
    key = tokens.issue(family.viewer, name="backup script").key
    answer = Client().get("/api/memorials/", HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/json")
    assert answer["Cache-Control"] == PRIVATE
    refused = Client().get("/api/memorials/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert refused.status_code == 401
    assert refused["Cache-Control"] == PRIVATE


def test_a_photo_is_not_stored_even_where_the_media_view_allowed_it(family, client_as):
    photo = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("porch.jpg", images.jpeg(seed=21)),
        user=family.contributor,
        attested=True,
    )
    response = client_as(family.viewer).get(photo.media_url("thumb"))
    assert response.status_code == 200
    assert response["Cache-Control"] == PRIVATE  # the view alone says "private, max-age=300"


def test_public_pages_and_static_files_keep_their_own_caching(family, client_as):
    anonymous = Client().get("/verify/")
    assert anonymous.status_code == 200
    assert "no-store" not in anonymous.get("Cache-Control", "")
    static = client_as(family.viewer).get("/static/css/trust.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")
