"""Websockets honour two-factor sign-in: a session that still owes its code hears nothing."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db(transaction=True)


def _status(server, path: str, cookie: str) -> int:
    async def attempt() -> int:
        try:
            ws = await websockets.connect(
                server.url.replace("http", "ws") + path,
                additional_headers={"Cookie": cookie},
                origin=server.url,
                open_timeout=20,
            )
        except websockets.exceptions.InvalidStatus as refused:
            return refused.response.status_code
        await ws.close()
        return 101

    return asyncio.run(attempt())


@pytest.mark.parametrize("path", ["/ws/memorials/{m}/", "/ws/staff/queues/"])
def test_a_socket_needs_the_code_when_the_user_has_an_authenticator(daphne_server, family, path):
    path = path.format(m=family.memorial.pk)
    device = TOTPDevice.objects.create(user=family.staff, name="phone", confirmed=True)
    client = Client()
    client.force_login(family.staff)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    assert _status(daphne_server, path, cookie) == 403  # password only

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    assert _status(daphne_server, path, cookie) == 101  # after the code
