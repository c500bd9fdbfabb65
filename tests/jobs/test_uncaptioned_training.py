"""Training takes every family photo: uncaptioned ones train on the empty caption (see
tests/engine/test_uncaptioned.py), and the form says how many have a caption and what one adds."""

from __future__ import annotations

import pytest

from memorial.consent.models import Scope
from memorial.jobs.models import Job, Kind
from tests.factories import add_photo
from tests.jobs.conftest import approve

pytestmark = pytest.mark.django_db(transaction=True)


def test_uncaptioned_photos_may_train_and_the_form_counts_the_captions(
    family, client_as, monkeypatch
):
    from memorial.jobs import dispatch

    monkeypatch.setattr(dispatch, "send", lambda job: None)  # the queue is tested elsewhere
    approve(family.memorial, Scope.TRAINING)
    add_photo(family, 1, "At the seaside")
    add_photo(family, 2)
    add_photo(family, 3)
    client = client_as(family.contributor)
    url = f"/m/{family.memorial.pk}/train/"
    html = client.get(url).content.decode()
    assert "1 of 3 photos have a caption." in html
    assert "Every photo is used, with or without one." in html
    assert f"/m/{family.memorial.pk}/captions/?needs=1" in html

    started = client.post(url, {"preset": "quick", "budget": "15"})
    assert started.status_code == 302
    assert Job.objects.filter(kind=Kind.TRAIN).exists()
    assert all(p.ready_for_training for p in family.memorial.photos.all())


def test_training_without_any_family_photo_is_refused_plainly(family, client_as):
    approve(family.memorial, Scope.TRAINING)
    add_photo(family, 4, "Made by the model", kind="generated")
    response = client_as(family.contributor).post(
        f"/m/{family.memorial.pk}/train/", {"preset": "quick", "budget": "15"}
    )
    assert response.status_code == 409
    assert "Add photos first" in response.content.decode()
