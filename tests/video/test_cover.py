"""A mouth hidden by a hand or a mask is told from a mouth in view, from the picture itself
(dlib places lips on a hand too): real faces (LFW when ../shared is present, and the packaged
astronaut and Grace Hopper, in colour and in black and white) stay usable; painted covers are
refused, either as a hidden mouth or because no face is found any more."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gan_engine.video.face import find_faces, mouth_covered
from tests.images import another_person, packaged_face, real_face_photos
from tests.video import covers


def _faces() -> list[tuple[str, Image.Image]]:
    made = [
        ("astronaut", packaged_face(side=640)),
        ("grace-hopper", another_person()),
        ("grace-hopper-grey", another_person().convert("L").convert("RGB")),
    ]
    return made + [(p.name, Image.open(p).convert("RGB")) for p in real_face_photos(3)]


FACES = _faces()


def refused(picture: Image.Image) -> bool:
    """What the speak page does: no face found, or the face's mouth is covered."""
    image = np.asarray(picture.convert("RGB"))
    faces = find_faces(image)
    return not faces or mouth_covered(image, faces[0].points)


@pytest.mark.parametrize(("name", "picture"), FACES, ids=[n for n, _ in FACES])
def test_a_mouth_in_view_is_not_covered(name, picture):
    image = np.asarray(picture)
    assert not mouth_covered(image, find_faces(image)[0].points), name


def test_a_hand_over_the_mouth_is_refused():
    hands = [refused(covers.hand(picture)) for _, picture in FACES]
    assert refused(covers.hand(FACES[0][1]))  # the packaged face, with or without ../shared
    assert np.mean(hands) >= 0.75, dict(zip([n for n, _ in FACES], hands, strict=True))


@pytest.mark.parametrize(("name", "picture"), FACES, ids=[n for n, _ in FACES])
def test_a_mask_is_refused(name, picture):
    assert refused(covers.mask(picture)), name
