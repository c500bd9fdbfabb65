"""Who may follow jobs over a websocket (daphne, real handshake), and the API's answers."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from django.test import Client

from memorial.jobs.models import Job, Kind

pytestmark = pytest.mark.django_db(transaction=True)


def _cookie(user) -> str | None:
    if user is None:
        return None
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.mark.parametrize(
    ("role", "accepted"),
    [
        ("anonymous", False),
        ("outsider", False),
        ("viewer", True),
        ("contributor", True),
        ("owner", True),
        ("staff", True),
    ],
)
def test_who_may_follow_a_job_and_the_memorials_jobs(daphne_server, family, role, accepted):
    job = Job.objects.create(
        kind=Kind.TRAIN, memorial=family.memorial, total=10, message="Waiting."
    )
    cookie = _cookie(family.user(role))

    async def attempt(path: str):
        headers = {"Cookie": cookie} if cookie else {}
        try:
            ws = await websockets.connect(
                daphne_server.url.replace("http", "ws") + path,
                additional_headers=headers,
                origin=daphne_server.url,
                open_timeout=20,
            )
        except websockets.exceptions.InvalidStatus as refused:
            return refused.response.status_code, None
        first = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
        await ws.close()
        return 101, first

    for path in (f"/ws/jobs/{job.pk}/", f"/ws/memorials/{family.memorial.pk}/jobs/"):
        status, first = asyncio.run(attempt(path))
        assert status == (101 if accepted else 403), path
        if accepted:  # the current state comes first
            assert first["job"] == str(job.pk) and first["state"] == "queued" and first["v"] == 1


def test_a_foreign_origin_is_refused(daphne_server, family):
    job = Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial)
    cookie = _cookie(family.owner)

    async def attempt():
        try:
            await websockets.connect(
                daphne_server.url.replace("http", "ws") + f"/ws/jobs/{job.pk}/",
                additional_headers={"Cookie": cookie},
                origin="https://evil.example",
                open_timeout=20,
            )
        except websockets.exceptions.InvalidStatus as refused:
            return refused.response.status_code
        return 101

    assert asyncio.run(attempt()) == 403


def test_the_api_lists_and_shows_jobs_from_the_ledger(family, client_as):
    job = Job.objects.create(
        kind=Kind.TRAIN, memorial=family.memorial, total=10, step=4, percent=40.0
    )
    viewer = client_as(family.viewer)

    listed = viewer.get(f"/api/memorials/{family.memorial.pk}/jobs/").json()
    shown = viewer.get(f"/api/jobs/{job.pk}/").json()

    assert [j["id"] for j in listed["results"]] == [str(job.pk)]
    assert shown["step"] == 4 and shown["percent"] == 40.0 and shown["state"] == "queued"
    assert client_as(family.outsider).get(f"/api/jobs/{job.pk}/").status_code == 404
    assert viewer.post(f"/api/jobs/{job.pk}/cancel/").status_code == 403
    assert (
        client_as(family.staff).post(f"/api/jobs/{job.pk}/cancel/").json()["state"] == "cancelled"
    )
