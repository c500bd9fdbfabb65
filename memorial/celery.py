"""The Celery application: two queues, `cpu` and `gpu`, on the Redis broker.

GPU workers run `celery -A memorial worker -Q gpu -c 1`; CPU workers `-Q cpu`.
The embedded run starts one worker that consumes both.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memorial.settings")

app = Celery("memorial")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("cpu"), Queue("gpu"))
app.conf.task_default_queue = "cpu"
app.autodiscover_tasks()
