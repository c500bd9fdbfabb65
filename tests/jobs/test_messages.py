"""Messages workers write to the ledger: out-of-memory retries in words a person understands (a
real worker with the engine's simulated out-of-memory fault), and every worker message shown in
the reader's language on the page, in the API and over the websocket (daphne)."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from memorial.consent.models import Scope
from memorial.jobs import progress, services, texts
from memorial.jobs.models import Job, Kind, State
from tests.jobs.conftest import TINY, approve, dumps, fresh, wait_for
from tests.jobs.test_access import _cookie

pytestmark = pytest.mark.django_db(transaction=True)

RESUMED_ZH = "已从第 8 步继续。"  # locale/zh_Hans: "Resumed from step %(step)d."
FINISHED_ZH = "已完成，共 12 步。"  # "Finished after %(step)d steps."


def test_out_of_memory_is_retried_at_half_batch_and_said_so(broker, job_worker, family, train_job):
    approve(family.memorial, Scope.TRAINING)
    job = train_job(inject_oom_steps=[3])  # step 3 runs out of memory once at batch 4

    broker.send("train", job.pk)
    wait_for(lambda: fresh(job).finished, "the training to finish")

    assert job.state == State.SUCCEEDED, dumps(job)
    assert job.step == TINY["steps"]
    assert job.result["oom"] == {"from": 4, "to": 2, "succeeded": True}
    assert job.message == (
        "Finished after 12 steps. Ran out of GPU memory at batch 4; retried at 2 and succeeded."
    )
    assert job.message_code["en"] == job.message  # translatable for each reader


def test_out_of_memory_even_at_batch_one_fails_with_advice(
    broker, job_worker, family, train_job, client_as
):
    approve(family.memorial, Scope.TRAINING)
    job = train_job(inject_oom_steps=[6, 6, 6])  # 4 → 2 → 1 → still out of memory

    broker.send("train", job.pk)
    wait_for(lambda: fresh(job).finished, "the training to fail")

    assert job.state == State.FAILED, dumps(job)
    assert job.error == (
        "Ran out of GPU memory at batch 4 and still at batch 1; choose a lower quality or a "
        "worker with more GPU memory. It can be retried from step 4."
    )
    page = client_as(family.viewer).get(job.get_absolute_url()).content.decode()
    assert "Ran out of GPU memory at batch 4 and still at batch 1" in page


def _finished_job(family) -> Job:
    message = texts.join(
        texts.t("Finished after %(step)d steps.", step=12),
        texts.t("Resumed from step %(step)d.", step=8),
    )
    return Job.objects.create(
        kind=Kind.TRAIN,
        memorial=family.memorial,
        state=State.SUCCEEDED,
        step=12,
        total=12,
        **texts.ledger_fields({"message": message}),
    )


def test_a_worker_message_is_shown_in_the_readers_language(family, client_as):
    job = _finished_job(family)
    assert job.message == "Finished after 12 steps. Resumed from step 8."
    viewer = client_as(family.viewer)

    chinese = viewer.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = viewer.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    api = viewer.get(f"/api/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    shown = '<p role="status" aria-live="polite" data-field="message">{}</p>'
    assert shown.format(f"{FINISHED_ZH} {RESUMED_ZH}") in chinese
    assert shown.format("Finished after 12 steps. Resumed from step 8.") in english
    assert api["message"] == f"{FINISHED_ZH} {RESUMED_ZH}"

    # Someone else rewrote the plain text only: the old code is stale and never shown.
    Job.objects.filter(pk=job.pk).update(message="Edited by hand.")
    again = viewer.get(f"/api/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert again["message"] == "Edited by hand."


def test_rendering_formats_plurals_nested_messages_and_untranslated_words():
    from django.utils import translation

    msg = texts.join(
        texts.nt("%(n)d photo generated.", "%(n)d photos generated.", 3),
        texts.t("The photos could not be prepared: %(error)s", error=texts.text("disk full")),
    )
    assert texts.english(msg) == ("3 photos generated. The photos could not be prepared: disk full")
    with translation.override("zh-hans"):
        assert texts.render(msg).startswith("已生成 3 张照片。")
        assert texts.render(msg).endswith("disk full")
    fields = texts.ledger_fields({"message": "plain", "error": msg})
    assert fields["message_code"] == {} and fields["error_code"]["en"] == fields["error"]


def test_websocket_subscribers_each_get_their_own_language(daphne_server, family):
    approve(family.memorial, Scope.TRAINING)
    job = Job.objects.create(
        kind=Kind.TRAIN, memorial=family.memorial, state=State.RUNNING, total=12, queue="gpu"
    )
    cookie = _cookie(family.viewer)
    url = daphne_server.url.replace("http", "ws") + f"/ws/jobs/{job.pk}/"

    async def follow() -> tuple[list[dict], list[dict]]:
        async with (
            websockets.connect(
                url,
                additional_headers={"Cookie": cookie, "Accept-Language": "zh-hans,zh;q=0.9"},
                origin=daphne_server.url,
            ) as zh,
            websockets.connect(
                url,
                additional_headers={"Cookie": f"{cookie}; django_language=en"},
                origin=daphne_server.url,
            ) as en,
        ):
            first = [json.loads(await zh.recv()), json.loads(await en.recv())]
            await asyncio.to_thread(lambda: services.cancel(Job.objects.get(pk=job.pk)))
            second = [
                json.loads(await asyncio.wait_for(zh.recv(), 20)),
                json.loads(await asyncio.wait_for(en.recv(), 20)),
            ]
        return first, second

    first, second = asyncio.run(follow())
    assert first[0]["state_label"] == "运行中"
    assert first[1]["state_label"] == "Running"
    assert second[0]["message"] == "将在下一步停止……"
    assert second[1]["message"] == "Stopping at the next step…"
    assert second[0]["message_code"]["id"] == "Stopping at the next step…"


def test_websocket_language_comes_from_the_cookie_then_the_header():
    scope = {"cookies": {"django_language": "zh-hans"}, "headers": [(b"accept-language", b"en")]}
    assert progress.language_of(scope) == "zh-hans"
    chinese = {"headers": [(b"accept-language", b"zh-CN,zh;q=0.9")]}
    assert progress.language_of(chinese) == "zh-hans"
    assert progress.language_of({"headers": [(b"accept-language", b"fr")]}) == "en"


def test_a_job_blocked_by_consent_says_why_in_the_readers_language(family, client_as):
    from memorial.jobs import runner

    job = Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, queue="gpu")
    # The task's own check when it starts: no consent at all.
    with pytest.raises(runner.Skip), runner.running(str(job.pk)):
        pass
    job.refresh_from_db()
    assert job.state == State.BLOCKED
    assert job.error == (
        "No consent for “Use photos to train a model of the person” has been recorded for "
        "this memorial."
    )
    api = client_as(family.viewer).get(f"/api/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert api.json()["error"] == "此纪念页尚未记录关于“使用照片训练此人的模型”的同意。"
