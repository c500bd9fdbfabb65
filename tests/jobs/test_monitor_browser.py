"""The staff queue monitor in a real Chromium against daphne, with the suite's real worker: the
"Queues" link in the navigation, the worker shown online, a pause made elsewhere appearing live,
and Resume/Pause from the page. Also the GPU figures read from nvidia-smi (a stand-in script, as
this machine has no GPU) on the page and in the metrics."""

from __future__ import annotations

import os
import stat

import pytest
from django.test import Client
from playwright.sync_api import expect, sync_playwright

from memorial.jobs import monitor, workers
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.django_db(transaction=True)

FAKE_SMI = """#!/bin/sh
echo "NVIDIA H200, 20480, 143771, 37"
"""


def test_gpu_memory_and_utilisation_come_from_nvidia_smi(tmp_path, monkeypatch, client_as, family):
    tool = tmp_path / "nvidia-smi"
    tool.write_text(FAKE_SMI)
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")

    [gpu] = workers.gpus()
    assert gpu == {
        "name": "NVIDIA H200",
        "memory_used_bytes": 20480 * 2**20,
        "memory_total_bytes": 143771 * 2**20,
        "utilisation": 0.37,
    }
    workers.beat("gpu-test@node", ["gpu"])
    try:
        page = client_as(family.staff).get("/staff/queues/").content.decode()
        assert 'data-worker="gpu-test@node" data-online="1"' in page
        assert '<td data-field="utilisation">37 %</td>' in page
        assert "NVIDIA H200 (20480 / 143771 MiB)" in page
        metrics = client_as(family.staff).get("/metrics").content.decode()
        assert (
            'memorial_worker_gpu_utilisation_ratio{gpu="0",name="NVIDIA H200",worker="gpu-test@node"} 0.37'
            in metrics
        )
    finally:
        workers.forget("gpu-test@node")


@pytest.mark.browser
def test_staff_watch_workers_and_pause_and_resume_a_queue_live(
    celery_worker, daphne_server, family, artifacts_dir
):
    client = Client()
    client.force_login(family.staff)
    session = client.cookies["sessionid"].value
    monitor.resume("gpu")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            host = daphne_server.url.split("//")[1].split(":")[0]
            context.add_cookies(
                [{"name": "sessionid", "value": session, "domain": host, "path": "/"}]
            )
            page = context.new_page()
            page.goto(daphne_server.url + "/")
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Queues").click()
            expect(page).to_have_url(daphne_server.url + "/staff/queues/")
            expect(page.get_by_role("link", name="Queues")).to_have_attribute(
                "aria-current", "page"
            )
            expect(page.locator("#monitor")).to_have_attribute("data-live", "1", timeout=20_000)
            expect(page.locator('tr[data-worker][data-online="1"]')).not_to_have_count(
                0, timeout=60_000
            )  # the suite's worker, by its heartbeat

            gpu = page.locator('tr[data-queue="gpu"]')
            expect(gpu).to_have_attribute("data-paused", "0")
            page.evaluate("window.notReloaded = true")
            monitor.pause("gpu")  # another member of staff pauses it
            expect(gpu).to_have_attribute("data-paused", "1", timeout=20_000)
            expect(gpu.locator('[data-field="paused"]')).to_have_text("yes")
            assert page.evaluate("window.notReloaded === true")  # it came over the websocket
            page.screenshot(path=str(artifacts_dir / "queue-monitor-paused.png"))

            gpu.get_by_role("button", name="Resume").click()
            expect(gpu).to_have_attribute("data-paused", "0", timeout=20_000)
            assert not monitor.is_paused("gpu")
            gpu.get_by_role("button", name="Pause").click()
            expect(gpu).to_have_attribute("data-paused", "1", timeout=20_000)
            assert monitor.is_paused("gpu")
            browser.close()
    finally:
        monitor.resume("gpu")
