"""The evaluation in words for the family; PSNR and the other figures stay for staff, in a
details disclosure."""

from __future__ import annotations

import pytest

from memorial.jobs.evaluation import in_words
from memorial.jobs.models import Job, Kind, ModelVersion, State

pytestmark = pytest.mark.django_db

REPORT = {
    "samples": 8,
    "photos": {"train": 20, "heldout": 3},
    "identity": {"identity_match_rate": 0.8, "detection_rate": 1.0, "diversity_descriptor": 0.3},
    "ceiling": {"identity": {"identity_match_rate": 1.0}, "train_best_vs_heldout": {"psnr": 11.79}},
    "heldout_best": {"psnr": 13.52, "ssim": 0.4},
}


def test_a_learned_model_is_described_in_words():
    said = " ".join(in_words(REPORT))
    assert "never saw while learning" in said
    assert "about 8 in 10 of the photos it makes are recognised as this person" in said
    assert "PSNR" not in said and "13.52" not in said


def test_an_unlearned_model_is_described_in_words():
    report = {**REPORT, "identity": {"identity_match_rate": 0.2, "detection_rate": 0.9}}
    assert "It has not learned the face yet: only about 2 in 10" in " ".join(in_words(report))


def test_the_model_page_puts_the_figures_in_a_disclosure(family, client_as):
    train = Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, state=State.SUCCEEDED)
    model = ModelVersion.objects.create(
        memorial=family.memorial, job=train, checkpoint="none", resolution=64
    )
    Job.objects.create(
        kind=Kind.EVALUATE,
        memorial=family.memorial,
        state=State.SUCCEEDED,
        parameters={"model_version": str(model.pk)},
        result={"report": REPORT},
    )
    page = client_as(family.viewer).get(model.get_absolute_url()).content.decode()
    words = page.index('id="evaluation-words"')
    details = page.index('id="evaluation-details"')
    table = page.index('id="evaluation-figures"')
    assert words < details < table  # the words first, the figures inside the disclosure
    assert "recognised as this person" in page[words:details]
    assert "PSNR" not in page[words:details] and "PSNR" in page[details:]
