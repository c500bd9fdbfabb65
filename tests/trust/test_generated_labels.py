"""A generated photo made by the real generate task is honestly labelled and carries nothing
personal: the stored original keeps the "AI-generated" label but not its caption, and still
verifies (C2PA trusted by this instance, watermark found); the photo page shows the badge, and
its alt text and title say it is AI-generated. (The gallery tile is checked in test_pages.py,
the lightbox in test_takedown_browser.py.)"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from memorial.provenance.checks import check
from tests.trust.made import make_everything

pytestmark = pytest.mark.django_db


def test_generated_original_is_labelled_and_verifies_without_its_caption(family, client_as):
    made = make_everything(family)
    photo = made.generated[0]
    with photo.image.open("rb") as handle:
        data = handle.read()
    assert b"smiling" not in data  # the caption the family typed
    text = Image.open(io.BytesIO(data)).text
    assert text["memorial:label"] == "AI-generated" and text["memorial:generated"] == "true"
    assert "memorial:caption" not in text
    result = check(data, family.owner)
    assert result.c2pa.verdict == "trusted", result.c2pa.failures
    assert result.watermark is True

    page = client_as(family.viewer).get(photo.get_absolute_url()).content.decode()
    assert 'class="badge badge--ai"' in page
    img = re.search(r'<img src="[^"]*/display/?"[^>]*>', page).group(0)
    assert (
        'alt="AI-generated image: smiling"' in img and 'title="AI-generated image: smiling"' in img
    )
