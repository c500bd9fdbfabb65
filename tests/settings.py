"""Settings for the test suite.

With DATABASE_URL and REDIS_URL set (CI), tests use that PostgreSQL and Redis.
Without them, SQLite and a private Redis started here, in a throw-away data folder.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Processes started by the tests (daphne, Celery) inherit the parent's folder and Redis.
_data_dir = os.environ.get("MEMORIAL_TEST_DATA_DIR", "")
if not _data_dir:
    _data_dir = tempfile.mkdtemp(prefix="memorial-test-")
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)
    os.environ["MEMORIAL_TEST_DATA_DIR"] = _data_dir
os.environ["MEMORIAL_DATA_DIR"] = _data_dir
# Shipped face priors (gan_engine/weights/) are not used by tests: a test that needs one installs
# a tiny prior it trained into this folder (gan_engine.prior.SHIPPED_ENV), which starts empty.
os.environ.setdefault("GAN_ENGINE_SHIPPED_PRIORS", os.path.join(_data_dir, "shipped-priors"))
os.environ.setdefault(
    "MEMORIAL_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789"
)

if not os.environ.get("REDIS_URL"):
    from memorial.core.redis_server import PrivateRedis

    _redis = PrivateRedis(_data_dir)
    _redis.start()
    atexit.register(_redis.stop)
    os.environ["REDIS_URL"] = _redis.url

from memorial.settings import *  # noqa: E402,F403
from memorial.settings import DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that daphne and Celery processes started by tests share it.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(_data_dir, "test.sqlite3")}
elif os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("MEMORIAL_TEST_DB_SUFFIX"):
    suffix = os.environ.get("MEMORIAL_TEST_DB_SUFFIX") or os.environ["PYTEST_XDIST_WORKER"]
    DATABASES["default"]["TEST"] = {"NAME": f"test_memorial_{suffix}"}

# Rate limits count in the shared Redis for an hour: each run (and its daphne and Celery
# children) counts under its own prefix, so an earlier run on the machine cannot use it up.
_run_id = os.environ.setdefault("MEMORIAL_TEST_RUN_ID", os.urandom(8).hex())
CACHES["ratelimit"]["KEY_PREFIX"] = f"memorial-rl-test-{_run_id}"  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # SMTP cannot run here
AXES_ENABLED = True
# Test workers start without timing training steps (seconds of CPU each); the probe has its
# own test (tests/jobs/test_speed.py), which runs it directly.
WORKER_SPEED_PROBE_STEPS = 0
# The evaluation queued after each training from the form (memorial/jobs/training.py): a few
# samples keep it quick on the suite's worker.
JOB_EVALUATION_SAMPLES = 4
# A restoration teaches the face enlarger the person's face for two CPU-minutes in the product;
# a few seconds exercise the same path on the suite's worker.
RESTORE_PERSONAL_SECONDS = 3.0
RESTORE_PERSONAL_COLOUR_SECONDS = 3.0
