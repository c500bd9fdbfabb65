"""Video jobs are listed under Videos, not Models, and their page shows no training figures."""

from __future__ import annotations

import pytest

from memorial.jobs.models import Job, Kind, State
from memorial.videos.templatetags.video_tags import seconds

pytestmark = pytest.mark.django_db


def test_video_jobs_are_under_videos_in_words(family, client_as):
    speak = Job.objects.create(
        kind=Kind.SPEAK,
        memorial=family.memorial,
        state=State.RUNNING,
        step=124,
        total=124,
        images_per_second=115.35,
        message="Moving the face.",
    )
    train = Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, state=State.RUNNING)
    client = client_as(family.viewer)
    models = client.get(f"/m/{family.memorial.pk}/jobs/").content.decode()
    assert str(train.pk) in models and str(speak.pk) not in models
    videos = client.get(f"/m/{family.memorial.pk}/videos/").content.decode()
    assert speak.get_absolute_url() in videos and "Moving the face." in videos

    page = client.get(speak.get_absolute_url()).content.decode()
    assert "step 124 of 124" not in page and "images/s" not in page and "Losses" not in page
    assert 'aria-current="page">Videos<' in page
    training = client.get(train.get_absolute_url()).content.decode()
    assert "Losses" in training  # training keeps its figures for staff


def test_a_length_is_cut_to_whole_seconds_as_players_show_it():
    assert seconds(1.96) == "0:01"
    assert seconds(2.04) == "0:02"
    assert seconds(61.5) == "1:01"
