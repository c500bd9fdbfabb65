"""Fixtures of the trust tests: a fresh rate-limit counter per test, a pending consent record."""

from __future__ import annotations

import uuid

import pytest

from memorial.consent.models import ConsentRecord, Scope


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Each test counts requests under its own key prefix in the shared Redis."""
    caches = dict(settings.CACHES)
    caches["ratelimit"] = {**caches["ratelimit"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    settings.CACHES = caches


@pytest.fixture
def pending_consent(family) -> ConsentRecord:
    return ConsentRecord.objects.create(
        memorial=family.memorial,
        attested_by=family.owner,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=[Scope.TRAINING, Scope.GENERATED_PHOTOS],
    )
