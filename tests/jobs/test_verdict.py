"""A plain verdict: after evaluation, a model that has not learned the face (identity match
under 0.5 or faces detected under 0.8) says so on its page with the likely cause and "Continue
training"; Generate and Film then need an explicit confirmation (pages and API). Losses, steps and
speed sit in a disclosure for staff and the curious."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage

from memorial.consent.models import Scope
from memorial.jobs import dispatch
from memorial.jobs.models import Job, Kind, ModelVersion, State
from tests.jobs.conftest import approve, dumps, fresh, wait_for

UNLEARNED = {"identity_match_rate": 0.0, "detection_rate": 0.12}
LEARNED = {"identity_match_rate": 0.97, "detection_rate": 1.0}
NOT_LEARNED_TEXT = "This model has not learned the face of Grandma Rose yet."


def trained_model(family, identity: dict | None, *, photos: int = 12, seconds: float = 900.0):
    """A finished training job, its model and (with ``identity``) a finished evaluation."""
    job = Job.objects.create(
        kind=Kind.TRAIN,
        memorial=family.memorial,
        state=State.SUCCEEDED,
        trained_seconds=seconds,
        losses={"d": 1.2345, "g": 0.5678},
        images_per_second=3.5,
        step=76,
        total=20_000,
    )
    model = ModelVersion.objects.create(
        memorial=family.memorial, job=job, checkpoint="none", resolution=16, step=76
    )
    if identity is not None:
        Job.objects.create(
            kind=Kind.EVALUATE,
            memorial=family.memorial,
            state=State.SUCCEEDED,
            parameters={"model_version": str(model.pk)},
            result={
                "model_version": str(model.pk),
                "report": {
                    "samples": 4,
                    "photos": {"train": photos, "heldout": 3},
                    "identity": identity,
                    "ceiling": {"identity": {"identity_match_rate": 1.0, "detection_rate": 1.0}},
                },
                "files": {},
            },
        )
    return model


def page(client, model) -> str:
    response = client.get(model.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


# --- the verdict on the model page


@pytest.mark.django_db
def test_a_model_with_low_figures_says_in_plain_words_it_has_not_learned_the_face(
    family, client_as
):
    model = trained_model(family, UNLEARNED, photos=12, seconds=900.0)
    shown = page(client_as(family.contributor), model)
    assert NOT_LEARNED_TEXT in shown
    assert "It learned from 12 photos." in shown and "likely too few" in shown
    assert "It trained for 15 minutes." in shown and "likely too short" in shown
    assert 'id="continue-form"' in shown and "Continue training" in shown
    assert 'name="confirm_unlearned"' in shown and "Make photos anyway" in shown
    # A viewer reads the verdict but is offered nothing to start.
    seen = page(client_as(family.viewer), model)
    assert NOT_LEARNED_TEXT in seen and 'id="continue-form"' not in seen


@pytest.mark.django_db
@pytest.mark.parametrize(
    "identity, unlearned",
    [
        (LEARNED, False),
        ({"identity_match_rate": 0.5, "detection_rate": 0.8}, False),  # the thresholds pass
        ({"identity_match_rate": 0.49, "detection_rate": 1.0}, True),
        ({"identity_match_rate": 1.0, "detection_rate": 0.79}, True),
    ],
)
def test_the_verdict_follows_identity_match_and_face_detection(
    family, client_as, identity, unlearned
):
    model = trained_model(family, identity, photos=30, seconds=4 * 3600)
    shown = page(client_as(family.contributor), model)
    assert (NOT_LEARNED_TEXT in shown) is unlearned
    assert ('name="confirm_unlearned"' in shown) is unlearned
    if unlearned:  # enough photos and time: no cause is blamed that was not one
        assert "likely too few" not in shown and "likely too short" not in shown


@pytest.mark.django_db
def test_no_verdict_without_an_evaluation(family, client_as):
    shown = page(client_as(family.contributor), trained_model(family, None))
    assert NOT_LEARNED_TEXT not in shown


# --- Generate and Film ask for a confirmation


@pytest.mark.django_db
def test_generate_with_an_unlearned_model_needs_a_confirmation_on_the_page_and_the_api(
    family, client_as
):
    approve(family.memorial, Scope.GENERATED_PHOTOS)
    model = trained_model(family, UNLEARNED)
    client = client_as(family.contributor)
    form = {"caption": "smiling", "count": 2, "seed": 0}

    refused = client.post(model.get_absolute_url(), form)
    assert refused.status_code == 400
    assert "has not learned the face of Grandma Rose yet" in refused.content.decode()
    api = f"/api/memorials/{family.memorial.pk}/jobs/"
    body = {"kind": "generate", "model_version": str(model.pk), "count": 2}
    refused_api = client.post(api, body, content_type="application/json")
    assert refused_api.status_code == 400
    assert "has not learned the face" in refused_api.json()["detail"]
    assert not Job.objects.filter(kind=Kind.GENERATE).exists()

    accepted = client.post(model.get_absolute_url(), {**form, "confirm_unlearned": "on"})
    assert accepted.status_code == 302
    accepted_api = client.post(
        api, {**body, "confirm_unlearned": True}, content_type="application/json"
    )
    assert accepted_api.status_code == 201, accepted_api.content
    assert Job.objects.filter(kind=Kind.GENERATE).count() == 2


@pytest.mark.django_db
def test_a_learned_model_generates_without_a_confirmation(family, client_as):
    approve(family.memorial, Scope.GENERATED_PHOTOS)
    model = trained_model(family, LEARNED)
    response = client_as(family.contributor).post(
        model.get_absolute_url(), {"caption": "", "count": 1, "seed": 0}
    )
    assert response.status_code == 302
    assert Job.objects.filter(kind=Kind.GENERATE).count() == 1


@pytest.mark.django_db
def test_film_with_an_unlearned_model_needs_a_confirmation_on_the_page_and_the_api(
    family, client_as
):
    approve(family.memorial, Scope.GENERATED_VIDEOS)
    model = trained_model(family, UNLEARNED)
    client = client_as(family.owner)
    url = f"/m/{family.memorial.pk}/models/{model.pk}/film/"
    shown = client.get(url).content.decode()
    assert NOT_LEARNED_TEXT in shown and 'name="confirm_unlearned"' in shown
    form = {"seeds": "1, 2", "seconds": 2, "fps": 24}

    refused = client.post(url, form)
    assert refused.status_code == 400
    assert "has not learned the face of Grandma Rose yet" in refused.content.decode()
    api = f"/api/models/{model.pk}/film/"
    refused_api = client.post(api, {"seeds": [1, 2]}, content_type="application/json")
    assert refused_api.status_code == 400
    assert "has not learned the face" in refused_api.json()["detail"]
    assert not Job.objects.filter(kind=Kind.FILM).exists()

    assert client.post(url, {**form, "confirm_unlearned": "on"}).status_code == 302
    accepted_api = client.post(
        api, {"seeds": [1, 2], "confirm_unlearned": True}, content_type="application/json"
    )
    assert accepted_api.status_code == 201, accepted_api.content
    assert Job.objects.filter(kind=Kind.FILM).count() == 2


# --- numbers for staff and the curious


def disclosure(html: str, element_id: str) -> str:
    found = re.search(rf'<details[^>]*id="{element_id}"[^>]*>(.*?)</details>', html, re.S)
    assert found, f"no <details id={element_id}>"
    return found.group(1)


@pytest.mark.django_db
def test_losses_steps_and_speed_are_inside_a_details_disclosure(family, client_as):
    model = trained_model(family, LEARNED)
    client = client_as(family.viewer)
    job_page = client.get(model.job.get_absolute_url()).content.decode()
    inside = disclosure(job_page, "job-details")
    assert "Details for staff and the curious" in inside
    for field in ("losses", "speed", "steps"):
        assert f'data-field="{field}"' in inside
    assert "d 1.2345" in inside
    outside = job_page.replace(inside, "")
    assert "d 1.2345" not in outside and 'data-field="losses"' not in outside
    assert 'data-field="eta"' in outside  # time left and progress stay in view
    assert 'id="job-progress"' in outside

    model_page = page(client, model)
    assert "Training steps" in disclosure(model_page, "model-details")


# --- Continue training


@pytest.mark.django_db
def test_continue_training_is_refused_without_permission_or_consent(family, client_as):
    model = trained_model(family, UNLEARNED)
    url = f"/m/{family.memorial.pk}/models/{model.pk}/continue/"
    assert client_as(family.viewer).post(url, {"budget": 15}).status_code == 403
    assert client_as(family.outsider).post(url, {"budget": 15}).status_code in (403, 404)
    response = client_as(family.contributor).post(url, {"budget": 15}, follow=True)
    assert "No consent for" in response.content.decode()  # the gate's reason, plainly
    assert not Job.objects.filter(kind=Kind.TRAIN).exclude(pk=model.job_id).exists()


@pytest.mark.django_db(transaction=True)
def test_continue_training_resumes_from_the_models_checkpoint_with_a_new_budget(
    celery_worker, family, train_job, client_as
):
    approve(family.memorial, Scope.TRAINING)
    first = train_job(steps=4, sample_every=0)
    dispatch.send(first)
    wait_for(lambda: fresh(first).finished, "the first training to finish")
    assert first.state == State.SUCCEEDED, dumps(first)
    model = ModelVersion.objects.get(job=first)
    assert model.step == 4

    response = client_as(family.contributor).post(
        f"/m/{family.memorial.pk}/models/{model.pk}/continue/", {"budget": 15}
    )
    assert response.status_code == 302
    more = Job.objects.filter(kind=Kind.TRAIN).exclude(pk=first.pk).get()
    assert response["Location"] == more.get_absolute_url()
    assert more.parameters["time_budget_seconds"] == 15 * 60
    assert more.parameters["continue_from"]["checkpoint"] == model.checkpoint
    wait_for(lambda: fresh(more).finished, "the continued training to finish")
    assert more.state == State.SUCCEEDED, dumps(more)
    assert more.resumed_from == 4 and "Resumed from step 4." in more.message
    continued = ModelVersion.objects.get(job=more)
    assert continued.step == 8  # four more steps on top of the model's four
    assert default_storage.exists(model.checkpoint)  # the first model is left as it was
    assert fresh(model).step == 4


@pytest.mark.django_db
def test_continue_training_over_the_api(family, client_as, dataset):
    model = trained_model(family, UNLEARNED)
    Job.objects.filter(pk=model.job_id).update(
        parameters={"dataset": dataset, "engine": {"resolution": 16, "steps": 100}}
    )
    model.checkpoint = f"memorials/{family.memorial.pk}/models/{model.job_id}/checkpoints/x.pt"
    model.save(update_fields=["checkpoint"])
    url = f"/api/models/{model.pk}/continue/"
    body = {"time_budget_minutes": 60}
    assert (
        client_as(family.viewer).post(url, body, content_type="application/json").status_code == 403
    )
    no_consent = client_as(family.contributor).post(url, body, content_type="application/json")
    assert no_consent.status_code == 403 and "No consent for" in no_consent.json()["detail"]
    approve(family.memorial, Scope.TRAINING)
    bad = client_as(family.contributor).post(
        url, {"time_budget_minutes": 7}, content_type="application/json"
    )
    assert bad.status_code == 400

    created = client_as(family.contributor).post(url, body, content_type="application/json")
    assert created.status_code == 201, created.content
    job = Job.objects.get(pk=created.json()["id"])
    assert job.kind == Kind.TRAIN and job.parameters["time_budget_seconds"] == 3600
    assert job.parameters["dataset"] == dataset
    assert job.parameters["engine"]["steps"] == 76 + 100
    assert job.parameters["continue_from"] == {
        "model_version": str(model.pk),
        "checkpoint": model.checkpoint,
        "step": 76,
        "trained_seconds": 900.0,
    }
