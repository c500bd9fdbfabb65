"""A bounded property-based run of the OpenAPI schema against the live daphne server.

Schemathesis generates requests from /api/schema/ for every operation, valid ones and
deliberately invalid ones, authenticated with a real owner's token. Every response must
be documented: no 5xx, a documented status code, a documented content type and a body
that matches the schema.

State: each operation starts from a fresh memorial (owner, contributor, viewer, a photo,
a consent record), and path parameters point at those real objects so the requests
reach the code behind the permission check instead of stopping at a 404. Destructive
operations (DELETE of the memorial, a photo or a member) therefore only spoil their own
operation's later examples, which then get documented 404s; nothing is excluded.

Bounded: a fixed number of examples per operation and mode, derandomised, no example
database, so the run is the same every time and takes well under two minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from memorial.accounts import tokens
from memorial.consent.models import ConsentRecord
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Role
from memorial.memorials.services import add_member, create_memorial
from tests import images

EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}
# The token endpoint is throttled per address (30/minute) in the shared daphne process;
# stay well inside that so later tests on the same server can still get tokens.
TOKEN_EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 5}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def rejected_by_twisted(response) -> bool:
    """Daphne's HTTP layer (Twisted) parses multipart POST bodies itself and answers a
    malformed one (e.g. no parts at all) with a bare 400 before Django sees it. That is
    still a 4xx, but not ours to document; every other answer is checked."""
    sent = response.request.headers.get("Content-Type", "")
    return (
        response.status_code == 400
        and not response.content
        and "Content-Type" not in response.headers
        and sent.startswith("multipart/form-data")
    )


@dataclass
class State:
    token: str
    path_parameters: dict[str, str]


def fresh_state(make_user, n: int) -> State:
    owner = make_user(f"owner{n}@example.org", display_name="Olive Owner")
    viewer = make_user(f"viewer{n}@example.org")
    memorial = create_memorial(owner, name=f"Grandma Rose {n}")
    add_member(memorial, make_user(f"contributor{n}@example.org"), Role.CONTRIBUTOR)
    add_member(memorial, viewer, Role.VIEWER)
    photo = ingest_photo(
        memorial=memorial,
        uploaded=SimpleUploadedFile("rose.jpg", images.jpeg(seed=n, width=64, height=48)),
        user=owner,
        attested=True,
        caption="At the lake",
    )
    record = ConsentRecord.objects.create(
        memorial=memorial,
        attested_by=owner,
        attester_name="Mary Rose",
        relationship="daughter",
        basis="next_of_kin",
        scopes=["training"],
    )
    issued = tokens.issue(owner)
    return State(
        token=issued.key,
        path_parameters={
            "token_id": str(issued.token.pk),
            "memorial_id": str(memorial.pk),
            "photo_id": str(photo.pk),
            "record_id": str(record.pk),
            "user_id": str(viewer.pk),
            **_video_parameters(memorial),
        },
    )


def _video_parameters(memorial) -> dict[str, str]:
    """A trained model (films start from it) and a finished video of the memorial."""
    from memorial.jobs.models import Job, ModelVersion
    from memorial.videos.models import Video

    job = Job.objects.create(
        kind="train", memorial=memorial, state="succeeded", requested_by=memorial.created_by
    )
    model = ModelVersion.objects.create(
        memorial=memorial, job=job, checkpoint="none", resolution=16
    )
    video = Video(memorial=memorial, kind="film", duration=1.0, width=16, height=16)
    video.file.save("video.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42"), save=True)
    return {"model_id": str(model.pk), "video_id": str(video.pk)}


@pytest.mark.django_db(transaction=True)
def test_every_operation_conforms_to_the_schema(daphne_server, make_user):
    schema = schemathesis.openapi.from_url(daphne_server.url + "/api/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 19
    failures: list[str] = []
    calls = 0

    for n, operation in enumerate(operations):
        state = fresh_state(make_user, n)
        names = {p.name for p in operation.path_parameters}
        budget = TOKEN_EXAMPLES if operation.path == "/api/auth/token/" else EXAMPLES
        for mode, examples in budget.items():
            if mode == GenerationMode.NEGATIVE and not (len(operation.query) or operation.body):
                continue  # only fixed path parameters: nothing left to make invalid
            strategy = operation.as_strategy(
                mode,
                path_parameters={k: v for k, v in state.path_parameters.items() if k in names},
                headers={"Authorization": f"Token {state.token}"},
            )

            @given(case=strategy)
            @settings(
                max_examples=examples,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                nonlocal calls
                calls += 1
                response = case.call(timeout=30)
                if rejected_by_twisted(response):
                    return
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # collect them all, then report
                failures.append(f"{operation.label} [{mode.value}]: {exc}")

    assert not failures, "\n\n".join(failures)
    assert calls >= len(operations) * 2  # the run really exercised the server
