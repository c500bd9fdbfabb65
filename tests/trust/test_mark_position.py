"""The memorial's setting for the visible "AI-generated" mark: chosen on the edit form, read by
the generate task into the provenance, and burned into that corner by the engine's writer."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gan_engine.outputs import write_image
from memorial.memorials.models import MarkPosition, Memorial
from memorial.provenance import signing

SIZE = 256


def _set_position(client, memorial, position: str):
    return client.post(
        f"/m/{memorial.pk}/edit/",
        {"name": memorial.name, "biography": "", "mark_position": position},
    )


def _marked_area(path) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns where the picture changed a lot: the dark plate of the mark (the
    invisible watermark changes pixels by a few levels only)."""
    plain = np.asarray(Image.new("RGB", (SIZE, SIZE), (200, 180, 160)), np.int16)
    marked = np.asarray(Image.open(path).convert("RGB"), np.int16)
    changed = np.abs(marked - plain).sum(axis=2) > 60
    return np.nonzero(changed)


def test_new_memorials_mark_the_bottom_right_corner(family):
    assert family.memorial.mark_position == MarkPosition.BOTTOM_RIGHT
    assert signing.memorial_mark(family.memorial) == "bottom-right"


@pytest.mark.django_db
@pytest.mark.parametrize("position", ["top-left", "bottom-right", "top-right", "bottom-left"])
def test_the_mark_lands_in_the_chosen_corner(family, client_as, tmp_path, position):
    response = _set_position(client_as(family.owner), family.memorial, position)
    assert response.status_code == 302, response.content.decode()[:2000]
    memorial = Memorial.objects.get(pk=family.memorial.pk)
    assert memorial.mark_position == position

    # What memorial/jobs/tasks.py does for every generated image (no per-job override).
    provenance = signing.for_generated(
        memorial=memorial,
        model_version="mv-1",
        item_id="job/1",
        mark=signing.mark_corner({}.get("mark", signing.memorial_mark(memorial))),
    )
    assert provenance.mark == position
    path = write_image(
        Image.new("RGB", (SIZE, SIZE), (200, 180, 160)),
        tmp_path / "generated.png",
        kind="generated",
        provenance=provenance,
    )
    ys, xs = _marked_area(path)
    assert ys.size, "no visible mark"
    half = SIZE // 2
    top, left = position.startswith("top"), position.endswith("left")
    assert (ys.max() < half) if top else (ys.min() >= half), (ys.min(), ys.max())
    assert (xs.max() < half) if left else (xs.min() >= half), (xs.min(), xs.max())


@pytest.mark.django_db
def test_the_form_refuses_an_unknown_corner(family, client_as):
    response = _set_position(client_as(family.owner), family.memorial, "middle")
    assert response.status_code == 400
    assert Memorial.objects.get(pk=family.memorial.pk).mark_position == "bottom-right"


@pytest.mark.django_db
def test_the_edit_form_offers_every_corner(family, client_as):
    html = client_as(family.owner).get(f"/m/{family.memorial.pk}/edit/").content.decode()
    for value in MarkPosition.values:
        assert f'value="{value}"' in html
