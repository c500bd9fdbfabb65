"""Memorial: the Django project. The Celery app is loaded with it so tasks register."""

from memorial.celery import app as celery_app

__all__ = ["celery_app"]
