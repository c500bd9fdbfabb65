"""Fixtures of the trust tests: a pending consent record."""

from __future__ import annotations

import pytest

from memorial.consent.models import ConsentRecord, Scope


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
