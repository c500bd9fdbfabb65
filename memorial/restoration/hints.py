"""Colour hints a person gives for colourising: points on the photo, each with a colour.

They arrive as JSON (the restore page's hidden field, or the API's list): ``[{"x": 120, "y": 80,
"colour": "#a0522d"}, ...]`` with x and y in the photo's own pixels. Checked here once for both
doors, with messages a person can act on; the job stores them as ``[x, y, "#rrggbb"]``.
"""

from __future__ import annotations

import json
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: More than a person needs to mark eyes, hair, skin and clothes; keeps the job's record small.
MAX_HINTS = 20
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def parse(value, width: int, height: int) -> list[list]:
    """The hints as ``[[x, y, "#rrggbb"], ...]``; ValidationError saying what is wrong."""
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(
                _("The colour points could not be read; please add them again.")
            ) from None
    if not isinstance(value, list):
        raise ValidationError(_("The colour points could not be read; please add them again."))
    if len(value) > MAX_HINTS:
        raise ValidationError(
            _("At most %(limit)d colour points can be given; please remove %(extra)d.")
            % {"limit": MAX_HINTS, "extra": len(value) - MAX_HINTS}
        )
    hints = []
    for number, item in enumerate(value, 1):
        x, y = (item.get("x"), item.get("y")) if isinstance(item, dict) else (None, None)
        colour = item.get("colour") if isinstance(item, dict) else None
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y)):
            raise ValidationError(
                _("Colour point %(n)d has no place on the photo.") % {"n": number}
            )
        if not (0 <= x < width and 0 <= y < height):
            raise ValidationError(
                _(
                    "Colour point %(n)d is outside the photo, which is %(width)d × %(height)d "
                    "pixels."
                )
                % {"n": number, "width": width, "height": height}
            )
        if not isinstance(colour, str) or not COLOUR.match(colour):
            raise ValidationError(
                _("Colour point %(n)d needs a colour such as #a0522d.") % {"n": number}
            )
        hints.append([int(x), int(y), colour.lower()])
    return hints
