"""gan_engine: a few-shot, caption-conditioned face GAN that learns one person from a family's photos.

A plain PyTorch library with no web-framework imports, used three ways: the Python API (Celery tasks
call :func:`gan_engine.train.train`, :func:`gan_engine.data.prepare`, :func:`gan_engine.generate.generate`),
the command line (``python -m gan_engine``) and the tests. Importing this package is cheap: heavy
modules (torch, dlib, transformers) are imported by the submodules that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: Version of the checkpoint layout; a checkpoint written with another version is refused clearly.
CHECKPOINT_FORMAT = 2  # 2: smaller default channel table (networks.BASE_CHANNELS)
#: Version of the prepared data-set manifest.
MANIFEST_FORMAT = 1
#: Image sizes a model can be trained at (16 exists for tests only).
RESOLUTIONS = (16, 64, 128, 256)
