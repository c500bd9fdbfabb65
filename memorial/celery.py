"""The Celery application: two queues, `cpu` and `gpu`, on the Redis broker.

GPU workers run `celery -A memorial worker -Q gpu -c 1`; CPU workers `-Q cpu`.
The embedded run starts one worker that consumes both, with the beat scheduler inside it.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memorial.settings")
# Set before the tasks module loads torch (OpenMP reads it once, when it loads): PyTorch's idle
# OpenMP threads then sleep instead of spinning. A worker shares its cores with the web server,
# Redis, the progress thread and often other work; spinning threads burned that shared CPU and
# a 2-thread Quick training on a busy 2-core machine ran at 1.1 images/s instead of 4.0
# (`python -m gan_engine.speed --threads 2`, see BENCHMARKS.md "Training speed in the product").
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

app = Celery("memorial")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("cpu"), Queue("gpu"))
app.conf.task_default_queue = "cpu"
app.autodiscover_tasks()

# Periodic tasks, sent by `celery beat` (a service of its own in docker-compose.yml; the
# embedded run starts it inside its one worker with `--beat`).
PURGE_INTERVAL_SECONDS = 3600.0
#: Queued jobs whose message never reached the broker, and takedown e-mails not yet sent, are
#: looked for this often (memorial/jobs/sweep.py, memorial/moderation/tasks.py).
SWEEP_INTERVAL_SECONDS = 60.0
app.conf.beat_schedule = {
    "purge-deleted-memorials": {
        "task": "memorial.memorials.purge_due",
        "schedule": PURGE_INTERVAL_SECONDS,
        "options": {"queue": "cpu", "expires": PURGE_INTERVAL_SECONDS},
    },
    "resend-stale-jobs": {
        "task": "memorial.jobs.resend_stale",
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": {"queue": "cpu", "expires": SWEEP_INTERVAL_SECONDS},
    },
    "send-takedown-notices": {
        "task": "memorial.moderation.send_due_notices",
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": {"queue": "cpu", "expires": SWEEP_INTERVAL_SECONDS},
    },
}
