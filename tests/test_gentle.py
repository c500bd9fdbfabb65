"""Gentle viewing (memorials/gentle.py): what a member sees of AI-made items until and after
choosing, the owner's AI feature switches, what AI-made items may never be, videos that never
start on their own, counts that keep real and AI-made items apart, and the About page.

Access itself (every URL against every role and choice) is in tests/test_permission_matrix.py.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from memorial.jobs.models import Job, ModelVersion
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Memorial, PhotoKind
from tests import images
from tests.videos import samples as video_samples

pytestmark = pytest.mark.django_db


def _photo(family, seed: int, kind: str = PhotoKind.UPLOADED, caption: str = "At the lake"):
    name = "made.png" if kind == PhotoKind.GENERATED else "real.jpg"
    data = images.png(seed=seed) if kind == PhotoKind.GENERATED else images.jpeg(seed=seed)
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile(name, data),
        user=family.contributor,
        attested=True,
        caption=caption,
        kind=kind,
    )


@pytest.fixture
def mixed(family):
    """A memorial with one real photo, two AI-made photos and one speaking portrait; the viewer
    is new here (has not chosen)."""
    real = _photo(family, 1)
    made = [_photo(family, 2 + i, PhotoKind.GENERATED, f"Rose by the sea {i}") for i in range(2)]
    ids = video_samples.scene(family)
    family.memorial.memberships.filter(user=family.viewer).update(
        viewing_chosen_at=None, show_ai_photos=False, show_ai_videos=False
    )
    return family, real, made, ids["vid"]


def test_until_choosing_a_new_member_sees_only_real_photos_and_is_told_why(mixed, client_as):
    family, real, made, video = mixed
    page = client_as(family.viewer).get(f"/m/{family.memorial.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert str(real.pk) in html
    assert all(str(p.pk) not in html for p in made)
    assert str(video) not in html
    assert 'id="gentle-choice"' in html  # the first-visit explanation and choice
    assert 'data-hidden-photos="2"' in html and 'data-hidden-videos="1"' in html
    assert "2 AI-made photos are hidden." in html
    assert "1 photo · 3 AI-made" in html


def test_choosing_photos_shows_them_but_not_portraits_and_can_be_changed(mixed, client_as):
    family, _real, made, video = mixed
    client = client_as(family.viewer)
    url = f"/m/{family.memorial.pk}/viewing/"
    response = client.post(url, {"choice": "photos", "next": f"/m/{family.memorial.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/m/{family.memorial.pk}/"
    html = client.get(f"/m/{family.memorial.pk}/").content.decode()
    assert all(str(p.pk) in html for p in made)
    assert str(video) not in html
    assert 'id="gentle-choice"' not in html  # asked once; changeable from the menu
    assert f'href="{url}"' in html
    assert client.get(f"/media/videos/{video}/file/").status_code == 403
    client.post(url, {"choice": "real"})
    assert client.get(f"/media/photos/{made[0].pk}/thumb/").status_code == 403
    assert client.get(f"/api/memorials/{family.memorial.pk}/photos/").json()["count"] == 1


def test_a_choice_that_is_not_one_of_the_three_is_a_400(mixed, client_as):
    family, *_ = mixed
    response = client_as(family.viewer).post(
        f"/m/{family.memorial.pk}/viewing/", {"choice": "everything"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_an_off_site_next_is_ignored(mixed, client_as):
    family, *_ = mixed
    response = client_as(family.viewer).post(
        f"/m/{family.memorial.pk}/viewing/", {"choice": "real", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/m/{family.memorial.pk}/"


def test_videos_never_start_on_their_own(mixed, client_as):
    """A still poster, a content note and the browser's play button; nothing loads before play."""
    family, _real, _made, video = mixed
    client = client_as(family.owner)
    for path in (f"/m/{family.memorial.pk}/", f"/m/{family.memorial.pk}/videos/",
                 f"/m/{family.memorial.pk}/videos/{video}/"):  # fmt: skip
        html = client.get(path).content.decode()
        assert "<video" in html, path
        assert "autoplay" not in html, path
        assert 'preload="none"' in html and "poster=" in html, path
        assert "AI-made video of Grandma Rose speaking with a recording of their voice" in html


def test_api_refuses_an_ai_made_cover_photo(mixed, client_as):
    family, real, made, _ = mixed
    client = client_as(family.owner)
    url = f"/api/memorials/{family.memorial.pk}/"
    body = json.dumps({"cover_photo": str(made[0].pk)})
    response = client.patch(url, body, content_type="application/json")
    assert response.status_code == 400
    assert "AI-made photo cannot be the cover" in response.content.decode()
    assert Memorial.objects.get(pk=family.memorial.pk).cover_photo_id is None
    body = json.dumps({"cover_photo": str(real.pk)})
    assert client.patch(url, body, content_type="application/json").status_code == 200


def test_form_refuses_an_ai_made_cover_photo(mixed, client_as):
    family, real, made, _ = mixed
    client = client_as(family.owner)
    client.post(made[0].get_absolute_url(), {"action": "cover"})
    assert Memorial.objects.get(pk=family.memorial.pk).cover_photo_id is None
    page = client.get(f"/m/{family.memorial.pk}/edit/").content.decode()
    assert str(real.pk) in page and str(made[0].pk) not in page


@pytest.mark.parametrize("caption", ["I miss you all", "我想你们", "Love, me"])
def test_an_ai_made_photo_may_not_speak_as_the_person(mixed, client_as, caption):
    family, real, made, _ = mixed
    client = client_as(family.contributor)
    response = client.patch(
        f"/api/photos/{made[0].pk}/", json.dumps({"caption": caption}), "application/json"
    )
    assert response.status_code == 400
    assert "may not speak as the person" in response.content.decode()
    response = client.post(made[0].get_absolute_url(), {"caption": caption})
    assert response.status_code == 400
    assert "may not speak as the person" in response.content.decode()
    # A real photo's caption is the family's own words.
    response = client.patch(
        f"/api/photos/{real.pk}/", json.dumps({"caption": caption}), "application/json"
    )
    assert response.status_code == 200


def _model(family) -> ModelVersion:
    job = Job.objects.create(kind="train", memorial=family.memorial, state="succeeded", total=1)
    return ModelVersion.objects.create(
        memorial=family.memorial, job=job, checkpoint="none", resolution=64
    )


def test_generation_captions_may_not_speak_as_the_person(family, client_as):
    from memorial.jobs import services
    from tests.trust.made import approve

    approve(family.memorial)
    with pytest.raises(services.Refused, match="may not speak as the person"):
        services.start_generation(
            _model(family), family.owner, "I am happy", 1, 1, confirm_unlearned=True
        )


def _switch_off(family, client_as, **off) -> None:
    fields = {
        "ai_generation_enabled": "on",
        "ai_restoration_enabled": "on",
        "ai_speaking_enabled": "on",
        "ai_films_enabled": "on",
    }
    for name in off:
        fields.pop(name)
    response = client_as(family.owner).post(f"/m/{family.memorial.pk}/ai-features/", fields)
    assert response.status_code == 302


def test_speaking_portraits_switched_off_disappear_and_are_refused(family, client_as):
    video_samples.scene(family)  # consent for videos and voice
    photo = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("rose.jpg", video_samples.face_jpeg()),
        user=family.contributor,
        attested=True,
    )
    client = client_as(family.contributor)
    assert "Make it speak" in client.get(photo.get_absolute_url()).content.decode()
    _switch_off(family, client_as, ai_speaking_enabled=False)
    assert "Make it speak" not in client.get(photo.get_absolute_url()).content.decode()
    page = client.get(f"/m/{family.memorial.pk}/photos/{photo.pk}/speak/")
    assert page.status_code == 403
    assert "turned off for this memorial" in page.content.decode()
    voice = SimpleUploadedFile("voice.wav", video_samples.voice_wav(1.0), "audio/wav")
    response = client.post(f"/api/photos/{photo.pk}/speak/", {"audio": voice})
    assert response.status_code == 403
    assert "Making speaking portraits is turned off" in response.json()["detail"]


def test_films_and_generation_switched_off_are_refused_over_the_api(family, client_as):
    from tests.trust.made import approve

    video_samples.scene(family)
    approve(family.memorial)
    model = _model(family)
    client = client_as(family.owner)
    _switch_off(family, client_as, ai_films_enabled=False, ai_generation_enabled=False)
    film = client.post(
        f"/api/models/{model.pk}/film/", json.dumps({"seeds": [1, 2]}), "application/json"
    )
    assert film.status_code == 403 and "Making films is turned off" in film.json()["detail"]
    body = {"kind": "generate", "model_version": str(model.pk), "caption": "smiling", "count": 1}
    made = client.post(
        f"/api/memorials/{family.memorial.pk}/jobs/", json.dumps(body), "application/json"
    )
    assert (
        made.status_code == 403 and "Making AI-made photos is turned off" in made.json()["detail"]
    )
    train = client.post(
        f"/api/memorials/{family.memorial.pk}/jobs/",
        json.dumps({"kind": "train"}),
        "application/json",
    )
    assert train.status_code == 403 and "nothing to train a model for" in train.json()["detail"]
    assert "Train a model" not in client.get(f"/m/{family.memorial.pk}/jobs/").content.decode()


def test_restoration_has_its_switch_before_the_feature_exists(family, client_as):
    _switch_off(family, client_as, ai_restoration_enabled=False)
    assert not Memorial.objects.get(pk=family.memorial.pk).ai_restoration_enabled
    api = client_as(family.owner).get(f"/api/memorials/{family.memorial.pk}/").json()
    assert api["ai_restoration_enabled"] is False


def test_counts_keep_real_and_ai_made_apart(mixed, client_as):
    family, *_ = mixed
    client = client_as(family.owner)
    assert "1 photo · 3 AI-made" in client.get("/").content.decode()
    counts = client.get(f"/api/memorials/{family.memorial.pk}/").json()["counts"]
    assert counts == {"photos": 1, "ai_photos": 2, "videos": 1, "label": "1 photo · 3 AI-made"}


def test_export_keeps_the_distinction(mixed, client_as):
    import io
    import zipfile

    family, real, made, video = mixed
    response = client_as(family.owner).get(f"/m/{family.memorial.pk}/export/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    made_by_id = {f["id"]: f["ai_made"] for f in manifest["files"] + manifest["missing_files"]}
    assert made_by_id[str(real.pk)] is False
    assert made_by_id[str(made[0].pk)] is True and made_by_id[str(video)] is True
    assert manifest["memorial"]["counts"]["ai_photos"] == 2


def test_about_page_is_public_and_linked_from_every_label(mixed, client, client_as):
    family, _real, made, _video = mixed
    about = client.get("/about-ai/")
    html = about.content.decode()
    assert about.status_code == 200
    for words in (
        "visible mark",
        "invisible watermark",
        "C2PA",
        'href="/verify/"',
        'href="/takedown/"',
    ):
        assert words in html
    owner = client_as(family.owner)
    for path in (f"/m/{family.memorial.pk}/", made[0].get_absolute_url(),
                 f"/m/{family.memorial.pk}/videos/"):  # fmt: skip
        page = owner.get(path).content.decode()
        labels = page.count('class="badge badge--ai"')
        assert labels and page.count('class="badge badge--ai" href="/about-ai/"') == labels, path


def test_a_models_page_hides_its_ai_made_photos_until_chosen(mixed, client_as):
    from memorial.jobs.models import GeneratedImage

    family, _real, made, _video = mixed
    model = _model(family)
    GeneratedImage.objects.create(photo=made[0], model_version=model, job=model.job, seed=1)
    page = client_as(family.viewer).get(model.get_absolute_url()).content.decode()
    assert made[0].media_url() not in page
    assert "1 AI-made photo is hidden." in page
    page = client_as(family.owner).get(model.get_absolute_url()).content.decode()
    assert made[0].media_url() in page


def test_the_picture_for_a_message_is_never_ai_made(mixed):
    from memorial.memorials.gentle import message_picture

    family, real, made, _video = mixed
    Memorial.objects.filter(pk=family.memorial.pk).update(cover_photo=made[0])
    assert message_picture(Memorial.objects.get(pk=family.memorial.pk)) == real


def test_a_job_page_does_not_show_its_ai_made_samples_until_chosen(mixed, client_as):
    from django.core.files.base import ContentFile

    family, *_ = mixed
    job = _model(family).job
    job.sample.save("sample.png", ContentFile(images.png(seed=9)), save=True)
    sample = f"/media/jobs/{job.pk}/sample/"
    page = client_as(family.viewer).get(job.get_absolute_url()).content.decode()
    # The page's live state names the URL, but no image loads it (jobs.js skips data-gentle=off).
    assert f'src="{sample}' not in page and 'data-gentle="off"' in page
    owner_page = client_as(family.owner).get(job.get_absolute_url()).content.decode()
    assert f'src="{sample}' in owner_page


def test_a_job_page_offers_the_first_choice_in_one_click_and_comes_back(mixed, client_as):
    """Someone who started a restoration or a training has not necessarily been asked what they
    want to see: the job page hides its pictures, says why, and offers the choice right there."""
    from django.core.files.base import ContentFile

    family, *_ = mixed
    job = _model(family).job
    job.sample.save("sample.png", ContentFile(images.png(seed=9)), save=True)
    client = client_as(family.viewer)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "You have not chosen yet whether to see AI-made items" in page
    assert 'name="choice" value="photos"' in page and "Show AI-made photos" in page
    chosen = client.post(
        f"/m/{family.memorial.pk}/viewing/", {"choice": "photos", "next": job.get_absolute_url()}
    )
    assert chosen.status_code == 302 and chosen["Location"] == job.get_absolute_url()
    page = client.get(job.get_absolute_url()).content.decode()
    assert f'src="/media/jobs/{job.pk}/sample/' in page
    assert "You have not chosen yet" not in page

    # A member who chose to see only real photos is not asked again, only told where to change it.
    client.post(f"/m/{family.memorial.pk}/viewing/", {"choice": "real"})
    page = client.get(job.get_absolute_url()).content.decode()
    assert "so they are hidden for you" in page and "Change what you see" in page
    assert 'name="choice"' not in page


def test_the_choice_over_the_api(mixed, client_as):
    family, *_ = mixed
    client = client_as(family.viewer)
    url = f"/api/memorials/{family.memorial.pk}/viewing/"
    assert client.get(url).json() == {"choice": None, "hidden_photos": 2, "hidden_videos": 1}
    answer = client.put(url, json.dumps({"choice": "photos"}), "application/json")
    assert answer.json() == {"choice": "photos", "hidden_photos": 0, "hidden_videos": 1}
    wrong = client.put(url, json.dumps({"choice": "everything"}), "application/json")
    assert wrong.status_code == 400


def test_the_owner_switches_a_feature_over_the_api(family, client_as):
    url = f"/api/memorials/{family.memorial.pk}/"
    body = json.dumps({"ai_films_enabled": False})
    answer = client_as(family.owner).patch(url, body, "application/json")
    assert answer.status_code == 200 and answer.json()["ai_films_enabled"] is False
    assert client_as(family.contributor).patch(url, body, "application/json").status_code == 403
