"""Shared fixtures: the people of a family in every role, real servers, test pictures."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client

from tests.servers import CeleryWorker, Daphne

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Each test counts requests under its own key prefix in the shared Redis."""
    caches = dict(settings.CACHES)
    caches["ratelimit"] = {**caches["ratelimit"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    settings.CACHES = caches


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker, artifacts_dir):
    """A real daphne process serving the app against the test database."""
    with django_db_blocker.unblock():
        server = Daphne(artifacts_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, artifacts_dir):
    """A real Celery worker process consuming both queues, as in the embedded run."""
    with django_db_blocker.unblock():
        worker = CeleryWorker(artifacts_dir)
    yield worker
    worker.stop()


@dataclass
class Family:
    memorial: object
    other_memorial: object
    owner: object
    contributor: object
    viewer: object
    outsider: object
    staff: object

    def user(self, role: str):
        return None if role == "anonymous" else getattr(self, role)


PASSWORD = "a-long-test-password-1"


@pytest.fixture
def make_user(db):
    from memorial.accounts.models import User

    def make(email: str, **extra) -> User:
        return User.objects.create_user(email=email, password=PASSWORD, **extra)

    return make


@pytest.fixture
def family(make_user) -> Family:
    """One memorial with an owner, a contributor and a viewer; an outsider who owns another
    family's memorial; and a staff user who belongs to neither."""
    from memorial.memorials.models import Role
    from memorial.memorials.services import add_member, create_memorial

    owner = make_user("owner@example.org", display_name="Olive Owner")
    contributor = make_user("contributor@example.org", display_name="Cara Contributor")
    viewer = make_user("viewer@example.org", display_name="Victor Viewer")
    outsider = make_user("outsider@example.org", display_name="Otto Outsider")
    staff = make_user("staff@example.org", display_name="Stella Staff", is_staff=True)
    memorial = create_memorial(owner, name="Grandma Rose")
    add_member(memorial, contributor, Role.CONTRIBUTOR)
    add_member(memorial, viewer, Role.VIEWER)
    other = create_memorial(outsider, name="Uncle Ben")
    # These members have already chosen to see AI-made photos and portraits, so tests about
    # generated items see them; a new member sees none until choosing (tests/test_gentle.py).
    from django.utils import timezone

    memorial.memberships.update(
        viewing_chosen_at=timezone.now(), show_ai_photos=True, show_ai_videos=True
    )
    return Family(memorial, other, owner, contributor, viewer, outsider, staff)


@pytest.fixture
def client_as():
    def make(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make
