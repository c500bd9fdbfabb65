"""Web code never imports torch: the video pages decode recordings and find faces in the web
process (gan_engine.video.audio and .face only), so prove those imports stay light."""

from __future__ import annotations

import subprocess
import sys

from tests.servers import ROOT, child_env

SCRIPT = """
import sys, tempfile, pathlib, django
django.setup()
import memorial.urls, memorial.api_urls
from memorial.videos import api, checks, forms, media, services, views
from gan_engine.video import audio, face
from tests.videos import samples
folder = pathlib.Path(tempfile.mkdtemp())
(folder / "v.wav").write_bytes(samples.wav_bytes(samples.syllables(0.5)))
audio.decode(folder / "v.wav")
print("torch" in sys.modules)
"""


def test_the_video_pages_and_their_checks_do_not_import_torch(db):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
