"""Live memorial events over a real websocket, through daphne and the Redis channel layer;
who may listen is decided by the same policy as every page."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from memorial.memorials.ingest import ingest_photo
from tests import images

pytestmark = pytest.mark.django_db(transaction=True)


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def _connect(server, memorial_id, cookie: str | None, origin: str | None = None):
    headers = {"Cookie": cookie} if cookie else {}
    return await websockets.connect(
        server.url.replace("http", "ws") + f"/ws/memorials/{memorial_id}/",
        additional_headers=headers,
        origin=origin or server.url,
        open_timeout=20,
    )


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
def test_who_may_listen_to_a_memorial(daphne_server, family, role, accepted):
    user = family.user(role)
    cookie = _session_cookie(user) if user else None

    async def attempt() -> int:
        """The consumer decides before accepting, so a refusal is a failed handshake."""
        try:
            ws = await _connect(daphne_server, family.memorial.pk, cookie)
        except websockets.exceptions.InvalidStatus as refused:
            return refused.response.status_code
        await ws.close()
        return 101

    status = asyncio.run(attempt())
    assert status == (101 if accepted else 403)


def test_a_member_sees_a_new_photo_arrive(daphne_server, family):
    cookie = _session_cookie(family.viewer)

    async def listen() -> dict:
        async with await _connect(daphne_server, family.memorial.pk, cookie) as ws:
            await sync_to_async(ingest_photo)(
                memorial=family.memorial,
                uploaded=SimpleUploadedFile("new.jpg", images.jpeg(seed=31)),
                user=family.contributor,
                attested=True,
            )
            return json.loads(await asyncio.wait_for(ws.recv(), timeout=20))

    event = asyncio.run(listen())
    assert event["event"] == "photo.created"
    assert event["v"] == 1
    assert event["photo_id"] == str(family.memorial.photos.get().pk)


def test_a_foreign_origin_is_refused(daphne_server, family):
    cookie = _session_cookie(family.owner)

    async def attempt():
        return await _connect(
            daphne_server, family.memorial.pk, cookie, origin="https://evil.example"
        )

    with pytest.raises(websockets.exceptions.InvalidStatus):
        asyncio.run(attempt())
