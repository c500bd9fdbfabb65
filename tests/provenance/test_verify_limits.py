"""The public verify page does bounded work: sizes are refused before anything is decoded, signed-in
members may check larger files, and a busy page answers 503 at once instead of queueing."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat

from memorial.provenance import views
from tests import images

pytestmark = pytest.mark.django_db


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width×height but whose pixel data cannot be decoded at all:
    only a check that reads the header, and stops there, can say how large it is."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", b"not zlib data")
        + _chunk(b"IEND", b"")
    )


def post(client, data: bytes, name: str = "photo.jpg"):
    return client.post("/verify/", {"file": SimpleUploadedFile(name, data)})


def test_a_file_over_the_limit_is_refused_for_anyone_but_members(settings, client, client_as):
    settings.PROVENANCE_VERIFY_MAX_BYTES = 50_000
    data = images.jpeg(seed=5) + b"\0" * 60_000  # a JPEG with padding after its end
    refused = post(client, data)
    assert refused.status_code == 413
    page = refused.content.decode()
    assert f"files up to {filesizeformat(50_000)} can be checked here" in page.replace(
        "&nbsp;", "\xa0"
    )
    assert "Signed-in members of a memorial can check larger files." in page
    assert "data-verdict" not in page  # nothing was checked


@pytest.fixture
def member(family, client_as):
    return client_as(family.viewer)


def test_members_may_check_larger_files(settings, member):
    settings.PROVENANCE_VERIFY_MAX_BYTES = 50_000
    page = post(member, images.jpeg(seed=5) + b"\0" * 60_000)
    assert page.status_code == 200
    assert 'data-verdict="none"' in page.content.decode()


def test_a_huge_picture_is_refused_from_its_header_without_decoding(client, member):
    bomb = png_header_only(5000, 5000)  # 25 megapixels declared in 70 bytes
    refused = post(client, bomb, "bomb.png")
    assert refused.status_code == 413
    page = refused.content.decode()
    assert "The picture is 5000 × 5000 pixels (25 megapixels)" in page
    assert "pictures up to 12 megapixels can be checked here" in page
    # A member's limit is the upload limit (50 megapixels): the header passes, the pixel data
    # then fails to decode, and the watermark is reported as not checked.
    allowed = post(member, bomb, "bomb.png")
    assert allowed.status_code == 200
    assert 'data-watermark="unchecked"' in allowed.content.decode()


def test_a_picture_too_large_for_pillow_to_open_is_refused_too(client):
    refused = post(client, png_header_only(40_000, 40_000), "bomb.png")  # 1.6 gigapixels
    assert refused.status_code == 413
    assert (
        "larger than 12 megapixels, the most that can be checked here" in refused.content.decode()
    )


@pytest.fixture
def all_slots_taken() -> Iterator[None]:
    """Every check slot held, as if other visitors' checks were running."""
    held = 0
    while views.CHECK_SLOTS.acquire(blocking=False):
        held += 1
    try:
        yield
    finally:
        for _ in range(held):
            views.CHECK_SLOTS.release()


def free_slots() -> int:
    taken = 0
    while views.CHECK_SLOTS.acquire(blocking=False):
        taken += 1
    for _ in range(taken):
        views.CHECK_SLOTS.release()
    return taken


def test_a_busy_page_answers_503_with_retry_after(client, all_slots_taken):
    busy = post(client, images.jpeg(seed=6))
    assert busy.status_code == 503
    assert int(busy["Retry-After"]) > 0
    assert "Please try again in a minute." in busy.content.decode()


def test_every_check_gives_its_slot_back(settings, client):
    slots = settings.PROVENANCE_VERIFY_CONCURRENCY
    assert free_slots() == slots
    for seed in range(slots + 1):  # more checks than slots, one after another
        assert post(client, images.jpeg(seed=seed)).status_code == 200
    assert post(client, png_header_only(5000, 5000)).status_code == 413
    assert post(client, b"").status_code == 400
    assert free_slots() == slots


def test_the_page_checks_a_file_and_refuses_a_huge_one_under_daphne(daphne_server):
    """The async view through the real ASGI server, its middleware and its thread pool."""
    with httpx.Client(base_url=daphne_server.url, timeout=60) as browser:
        page = browser.get("/verify/")
        assert page.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

        def send(data: bytes, name: str) -> httpx.Response:
            return browser.post(
                "/verify/",
                data={"csrfmiddlewaretoken": token},
                files={"file": (name, data)},
                headers={"Referer": daphne_server.url + "/verify/"},
            )

        checked = send(images.jpeg(seed=7), "photo.jpg")
        assert checked.status_code == 200 and 'data-verdict="none"' in checked.text
        refused = send(png_header_only(5000, 5000), "bomb.png")
        assert refused.status_code == 413 and "5000 × 5000" in refused.text
