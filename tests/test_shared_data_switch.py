"""MEMORIAL_TEST_WITHOUT_SHARED=1 makes the suite's data helper behave as on a fresh clone, so the
fallbacks can be tested on a machine that has ../shared/data (CI: `make test-without-shared`)."""

from __future__ import annotations

from tests import images


def test_the_switch_hides_the_shared_folder(monkeypatch) -> None:
    monkeypatch.setenv(images.WITHOUT_SHARED_ENV, "1")
    assert not images.shared_data().exists()
    monkeypatch.setenv(images.WITHOUT_SHARED_ENV, "0")
    assert images.shared_data() == images.ROOT.parent / "shared" / "data"
    monkeypatch.delenv(images.WITHOUT_SHARED_ENV)
    assert images.shared_data() == images.ROOT.parent / "shared" / "data"


def test_the_packaged_face_is_an_lfw_sized_portrait_with_distinct_variants() -> None:
    first, second = images.packaged_face(0), images.packaged_face(1)
    assert first.size == second.size == (250, 250)
    assert first.tobytes() != second.tobytes()
