#!/usr/bin/env python
"""A new family's first model, end to end in the real product, driven from a browser.

A benchmark, not a test: it records what happened and asserts nothing about time or quality.

It starts Memorial exactly as ``make run`` does (``python -m memorial.core.launcher``: SQLite, a
private Redis, daphne and one Celery worker with beat) on a fresh data folder and a free port,
then, in Debian's Chromium through Playwright:

1. the owner (a plain account made with ``manage.py shell``) signs in, creates a memorial for the
   person, uploads ``--photos`` photos of them through the file chooser, writes each one's
   caption in the caption editor (``--captions``), records consent for training and generated
   photos, and chooses to see AI-made photos ("What you see");
2. the staff reviewer (the first administrator the launcher creates, from
   ``MEMORIAL_ADMIN_EMAIL``/``MEMORIAL_ADMIN_PASSWORD``; not a member) approves the consent in
   the consent queue, in a browser context of its own;
3. once the worker's own speed test has ended (it has by the time a family has described 30
   photos; this script is faster, so it waits), the owner opens "Train a model", records the
   estimate the form shows, chooses Quick and the time budget, starts it, and watches the job page until it ends (the time left read every 30 s,
   a screenshot about every two minutes, the staff details opened);
4. the owner waits for the evaluation the product queues after training, reads the model page's
   plain verdict and the figures shown to staff, then generates four photos from a short
   caption and screenshots them on the job page.

It writes ``--out`` (JSON: the estimate and the real duration with their ratio, steps and speed,
the verdict and the evaluation figures, the prior, the load average at each end, each phase's
seconds, the time-left readings) and at most eight 1280x900 screenshots in a folder beside it
(plus ``failure.png`` when a step fails; the JSON then names the step and the error, and
carries the end of the instance's log). Memorial and everything it started are stopped at the
end, also on an error or Ctrl-C.

The smallest time budget the form offers is 15 minutes. A shorter ``--minutes`` (a smoke run)
chooses that budget and ends the training after ``--steps`` steps instead (by default about
``--minutes`` of steps on a busy 2-core CPU), through ``MEMORIAL_JOB_ENGINE_OVERRIDES``, the
setting tests and staff use for small runs; the JSON says so (``steps_cap``).

    .venv/bin/python bench/quick_from_browser.py      # 30 photos of Laura Bush, Quick, 15 min
    .venv/bin/python bench/quick_from_browser.py --person-dir ../shared/data/faces/lfw/Hamid_Karzai
    nice -n 10 .venv/bin/python bench/quick_from_browser.py --minutes 1 --photos 12 \\
        --out /tmp/quick-smoke.json                    # smoke run: every step, a short training
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [  # the suite's (tests/test_browser.py)
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
DEFAULT_PERSON = Path("/work/shared/data/faces/lfw/Laura_Bush")
GENERATE_CAPTION = "smiling, outdoors"
OWNER_EMAIL = "owner@family.example"
REVIEWER_EMAIL = "reviewer@memorial.example"
FINISHED = {"succeeded", "failed", "cancelled", "blocked"}
SCREENSHOT_EVERY = 120.0  # seconds of the job page between screenshots
READ_EVERY = 30.0  # seconds between readings of the time left
BUSY_SECONDS_PER_STEP = 2.0  # a Quick step on a busy 2-core CPU (README: ~5-23 images/s)

MINUTE = 60_000  # Playwright timeouts are in milliseconds


class StepFailed(Exception):
    """A step of the family's path failed; the message names it."""


# --- the instance ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Instance:
    """Memorial as ``make run`` starts it, on ``data_dir`` and ``port``; its output in a log."""

    def __init__(self, data_dir: Path, port: int, extra_env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = data_dir.parent / f"{data_dir.name}-launcher.log"
        self.env = {
            **os.environ,
            "MEMORIAL_DATA_DIR": str(data_dir),
            "MEMORIAL_PORT": str(port),
            **extra_env,
        }
        for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
            self.env.pop(name, None)  # the embedded default: SQLite and a private Redis
        self.process: subprocess.Popen[bytes] | None = None
        self.pids: dict[str, int] = {}
        self.started = time.monotonic()

    def start(self, timeout: float) -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "memorial.core.launcher"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C here reaches this script, which stops it
            )
        self.started = time.monotonic()
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StepFailed(f"the launcher exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=3) as answer:  # noqa: S310
                    if answer.status == 200:
                        self.read_pids()
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)
        raise StepFailed(f"Memorial did not answer {self.url}/healthz within {timeout:.0f} s")

    def read_pids(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.pids = json.loads((self.data_dir / "run.json").read_text())["pids"]

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise StepFailed(f"manage.py {args[0]} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def stop(self) -> None:
        """SIGTERM to the launcher (it stops the worker, daphne, then Redis); whatever is still
        there after that is killed, by the process ids the launcher wrote."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)  # the worker may take 30 s to finish its task
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for name, pid in self.pids.items():
            if name == "launcher":
                continue
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)  # each child leads its own session
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def log_tail(self, lines: int = 60) -> list[str]:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]

    def log_lines(self, needle: str) -> list[str]:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if needle in line]


# --- the record -------------------------------------------------------------------------------


class Record:
    """What happened, written to the JSON file; each step times itself and names a failure."""

    def __init__(self, out: Path, shots: Path) -> None:
        self.out = out
        self.shots = shots
        self.started = time.monotonic()
        self.data: dict[str, Any] = {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_at_start": list(os.getloadavg())},
            "phases": {},
            "screenshots": [],
            "page_errors": [],
            "server_errors": [],
        }

    @contextlib.contextmanager
    def step(self, name: str, page: Page | None = None) -> Iterator[None]:
        """Time one step; when it fails, screenshot ``page`` and name the step in the error."""
        began = time.monotonic()
        print(f"[{began - self.started:7.0f} s] {name} ...", flush=True)
        try:
            yield
        except BaseException as error:
            self.data["failed_step"] = name
            if page is not None:
                with contextlib.suppress(Exception):
                    self.shot(page, "failure")
            if isinstance(error, KeyboardInterrupt):
                raise
            raise StepFailed(f"step '{name}' failed: {error}") from error
        finally:
            self.data["phases"][name] = round(time.monotonic() - began, 1)
        print(f"[{time.monotonic() - self.started:7.0f} s] {name}: done", flush=True)

    def shot(self, page: Page, name: str, show: str | None = None, element: bool = False) -> None:
        """A 1280x900 screenshot scrolled to ``show`` (a selector), or that element alone."""
        path = self.shots / f"{name}.png"
        if show and element:
            page.locator(show).screenshot(path=str(path))
        else:
            if show:
                page.locator(show).first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(path))
        if path.name not in self.data["screenshots"]:
            self.data["screenshots"].append(path.name)

    def watch(self, page: Page) -> Page:
        """Every script error and every 5xx answer a page meets goes into the record."""
        page.on("pageerror", lambda error: self.data["page_errors"].append(str(error)[:500]))
        page.on(
            "response",
            lambda r: r.status >= 500 and self.data["server_errors"].append(f"{r.status} {r.url}"),
        )
        return page

    def write(self) -> None:
        self.data["total_seconds"] = round(time.monotonic() - self.started, 1)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(self.data, indent=2, ensure_ascii=False) + "\n")


# --- the family's path ------------------------------------------------------------------------


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")


def create_memorial(page: Page, base: str, name: str) -> str:
    page.goto(base + "/m/new/")
    page.locator("#id_name").fill(name)
    page.get_by_role("button", name="Create the memorial").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def upload(page: Page, photos: list[Path]) -> dict[str, str]:
    """Through the file chooser, as a person picks files; returns file name -> photo id."""
    page.get_by_role("link", name="Add photos").first.click()
    page.check("#attested")
    page.set_input_files("#file-input", [str(p) for p in photos])
    rows = page.locator("#upload-list > .upload-row")
    expect(rows).to_have_count(len(photos), timeout=MINUTE)
    settled = page.locator('.upload-row[data-state="done"], .upload-row[data-state="error"]')
    expect(settled).to_have_count(len(photos), timeout=(2 + len(photos) // 5) * MINUTE)
    failed = page.locator('.upload-row[data-state="error"]')
    if failed.count():
        raise StepFailed(f"{failed.count()} uploads failed: {failed.all_inner_texts()}")
    ids = {}
    for row in rows.all():
        ids[row.locator(".upload-row__name").inner_text().strip()] = row.get_attribute(
            "data-photo-id"
        )
    return ids


def write_captions(page: Page, base: str, memorial: str, captions: dict[str, str]) -> int:
    """In the caption editor: type each caption, Enter saves it and moves on."""
    page.goto(f"{base}/m/{memorial}/captions/")
    expect(page.get_by_role("heading", name="Describe the photos")).to_be_visible()
    for photo_id, caption in captions.items():
        box = page.locator(f"#caption-{photo_id}")
        box.fill(caption)
        box.press("Enter")
        expect(page.locator(f"#caption-status-{photo_id}")).to_have_text("Saved", timeout=MINUTE)
    page.reload()
    return page.locator(".caption-row:not(.caption-row--empty)").count()


def attest_consent(page: Page, base: str, memorial: str, attester: str) -> None:
    page.goto(f"{base}/m/{memorial}/consent/")
    page.locator("[name=attester_name]").fill(attester)
    page.locator("[name=relationship]").fill("daughter")
    page.locator("input[name=basis][value=next_of_kin]").check()
    page.locator("input[name=scopes][value=training]").check()
    page.locator("input[name=scopes][value=generated_photos]").check()
    page.locator("[name=statement]").fill("She loved family photos and would have smiled at this.")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator('.consent-record[data-status="pending"]')).to_have_count(1)


def approve_consent(page: Page, base: str, memorial_name: str) -> None:
    page.goto(base + "/moderation/consent/")
    record = page.locator(".consent-record").filter(has_text=memorial_name)
    expect(record).to_have_count(1)
    conflict = record.locator(".review-conflict")
    if conflict.count():
        raise StepFailed(f"the reviewer may not decide: {conflict.inner_text()}")
    record.locator("textarea[name=reason]").fill(
        "Next of kin attests; the statement and relationship are consistent."
    )
    record.get_by_role("button", name="Approve").click()
    expect(page.locator(".consent-record").filter(has_text=memorial_name)).to_have_count(0)


def see_ai_photos(page: Page, base: str, memorial: str) -> None:
    """Gentle viewing: until a member chooses, AI-made pictures (sample grids too) are hidden."""
    page.goto(f"{base}/m/{memorial}/viewing/")
    page.get_by_label("Real photos and AI-made photos", exact=True).check()
    page.get_by_role("button", name="Save my choice").click()
    expect(page.locator('[data-current-choice="photos"]')).to_have_count(1)


def budget_choice(page: Page, minutes: int) -> tuple[str, bool]:
    """The smallest budget the form offers that is at least ``minutes`` (else the largest
    below it), and whether that is longer than asked."""
    values = sorted(
        int(v) for v in page.locator("#id_budget option").evaluate_all("o => o.map(x => x.value)")
    )
    fits = [v for v in values if v >= minutes]
    chosen = fits[0] if fits else values[-1]
    return str(chosen), chosen > minutes


def read_train_form(page: Page) -> dict[str, Any]:
    box = page.locator("#train-estimate")
    expect(box).to_have_attribute("data-seconds", re.compile(r"^\d+$"), timeout=10_000)
    cpu = page.locator("#cpu-only")
    prior = page.locator("#id_prior")
    return {
        "text": box.locator('[data-estimate="total"]').inner_text().strip(),
        "detail": box.locator('[data-estimate="detail"]').inner_text().strip(),
        "seconds": int(box.get_attribute("data-seconds") or 0),
        "cpu_only_note": cpu.inner_text().strip() if cpu.count() else None,
        "captions_note": page.locator("#train-captions").inner_text().strip(),
        "prior_choice": (
            prior.locator("option:checked").inner_text().strip() if prior.count() else None
        ),
        "prior_summary": page.locator("#prior-summary li").all_inner_texts(),
    }


def ledger(page: Page, base: str, job: str) -> dict[str, Any]:
    """The job as the API reads it from the ledger, with the owner's session."""
    answer = page.request.get(f"{base}/api/jobs/{job}/", headers={"Accept": "application/json"})
    if not answer.ok:
        raise StepFailed(f"GET /api/jobs/{job}/ answered {answer.status}")
    return answer.json()


def seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    a = datetime.datetime.fromisoformat(start.replace("Z", "+00:00"))
    b = datetime.datetime.fromisoformat(end.replace("Z", "+00:00"))
    return round((b - a).total_seconds(), 1)


def job_page_reading(page: Page, elapsed: float) -> dict[str, Any]:
    def text(selector: str) -> str:
        found = page.locator(selector)
        return found.first.inner_text().strip() if found.count() else ""

    sample = page.locator("[data-field=sample]")
    return {
        "t": round(elapsed),
        "state": text("[data-field=state_label]"),
        "message": text("[data-field=message]"),
        "time_left": text("[data-field=eta]"),
        "steps": text("[data-field=steps]"),
        "speed": text("[data-field=speed]"),
        "kept": text("[data-field=kept]"),
        "progress": page.locator("#job-progress").evaluate("p => [p.value, p.max]"),
        "sample": (sample.get_attribute("src") or "") if sample.count() else "",
    }


def watch_training(
    page: Page, base: str, job: str, budget_s: float, timeout: float, rec: Record
) -> dict[str, Any]:
    """Watch the job page until the job ends: readings every 30 s, screenshots every ~2 min
    (early, middle, late third of the budget, each overwritten by newer ones of its third)."""
    expect(page.locator("#job")).to_have_attribute("data-live", "1", timeout=MINUTE)
    details = page.locator("#job-details")
    if details.count():
        details.locator("summary").click()  # steps and speed, for staff and the curious
    began = time.monotonic()
    readings: list[dict[str, Any]] = []
    last_read = last_shot = -1e9
    running_since: float | None = None
    load_at_run: list[float] | None = None
    while True:
        now = time.monotonic()
        if now - began > timeout:
            raise StepFailed(f"the training did not end within {timeout / 60:.0f} minutes")
        state = ledger(page, base, job)
        if state["state"] == "running" and running_since is None:
            running_since, load_at_run = now, list(os.getloadavg())
            # The first screenshot two minutes in (a quarter of a shorter run), then every two.
            last_shot = now - SCREENSHOT_EVERY + min(SCREENSHOT_EVERY, budget_s / 4)
        if state["state"] in FINISHED:
            break
        if now - last_read >= READ_EVERY:
            readings.append(job_page_reading(page, now - began))
            last_read = now
            print(
                f"    {readings[-1]['state']}: {readings[-1]['steps']}, "
                f"time left {readings[-1]['time_left']}",
                flush=True,
            )
        if running_since is not None and now - last_shot >= SCREENSHOT_EVERY:
            third = min(2, int(3 * (now - running_since) / max(budget_s, 1)))
            rec.shot(page, ("job-early", "job-mid", "job-late")[third], show="#job")
            last_shot = now
        page.wait_for_timeout(5_000)
    expect(page.locator("[data-field=state_label]")).not_to_have_text("Running", timeout=MINUTE)
    readings.append(job_page_reading(page, time.monotonic() - began))
    rec.shot(page, "job-finished", show="#job")
    return {
        "ledger": state,
        "readings": readings,
        "load_at_running": load_at_run,
        "load_at_end": list(os.getloadavg()),
    }


def evaluation_figures(page: Page) -> list[dict[str, str]]:
    return page.locator("#evaluation-figures tbody tr").evaluate_all(
        """rows => rows.map(r => ({
            figure: r.querySelector('th').childNodes[0].textContent.trim(),
            model: r.querySelectorAll('td')[0].textContent.trim(),
            real_photos: r.querySelectorAll('td')[1].textContent.trim(),
        }))"""
    )


def wait_for_evaluation(page: Page, model_url: str, timeout: float) -> dict[str, Any]:
    """Reload the model page until the evaluation report is on it (or its job ended without)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(model_url)
        if page.locator("#evaluation-words").count():
            break
        status = page.locator("#evaluation [role=status]")
        waiting = "being measured" in (status.inner_text() if status.count() else "")
        if status.count() and not waiting:
            raise StepFailed(f"the evaluation ended without a report: {status.inner_text()}")
        if not status.count():
            raise StepFailed("the model page shows no evaluation and none is running")
        if time.monotonic() > deadline:
            raise StepFailed(f"no evaluation report within {timeout / 60:.0f} minutes")
        page.wait_for_timeout(15_000)
    page.locator("#evaluation-details summary").click()
    page.locator("#model-details summary").click()
    verdict = page.locator("#verdict")
    return {
        "verdict": verdict.inner_text().strip() if verdict.count() else None,
        "learned_the_face": verdict.count() == 0,
        "in_words": page.locator("#evaluation-words p").all_inner_texts(),
        "figures": evaluation_figures(page),
        "model_details": page.locator("#model-details dl").inner_text().strip(),
    }


def generate(page: Page, count: int, timeout: float) -> dict[str, Any]:
    form = page.locator("#generate-form")
    form.get_by_label("Description").fill(GENERATE_CAPTION)
    form.get_by_label("How many photos").fill(str(count))
    form.get_by_label("Seed").fill("7")
    confirm = form.locator("[name=confirm_unlearned]")
    needed_confirmation = confirm.count() > 0
    if needed_confirmation:
        confirm.check()
    form.locator("button[type=submit]").click()
    expect(page.locator("#job")).to_have_attribute("data-live", "1", timeout=MINUTE)
    photos = page.locator("[data-field=photos] li")
    expect(page.locator("[data-field=state_label]")).to_have_text(
        "Finished", timeout=int(timeout * 1000)
    )
    expect(photos).to_have_count(count, timeout=MINUTE)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-field=photos] img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=MINUTE,
    )
    labels = photos.locator(".status-pill").all_inner_texts()
    return {
        "caption": GENERATE_CAPTION,
        "needed_confirmation": needed_confirmation,
        "photos": photos.count(),
        "labels": labels,
        "job_url": page.url,
    }


def wait_for_speed_test(instance: Instance, timeout: float) -> float | None:
    """Seconds after the start at which the worker's speed test (tasks.probe_speed) had ended.

    Until it ends, the form's estimate assumes a typical GPU's speed. A family spends minutes
    uploading and describing 30 photos before it opens the form; this script takes seconds, so
    it waits as long as a family would have (None: the test did not end within ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if instance.log_lines("training speed of") or instance.log_lines(
            "could not measure the training speed"
        ):
            return round(time.monotonic() - instance.started, 1)
        time.sleep(2)
    return None


# --- the run ----------------------------------------------------------------------------------


def make_owner(instance: Instance, email: str, password: str, name: str) -> None:
    """A plain family account (not staff), as an invitation would make one."""
    code = (
        "import os; from django.contrib.auth import get_user_model; "
        "get_user_model().objects.create_user(email=os.environ['BENCH_EMAIL'], "
        "password=os.environ['BENCH_PASSWORD'], display_name=os.environ['BENCH_NAME'])"
    )
    instance.manage(
        "shell",
        "-c",
        code,
        env={"BENCH_EMAIL": email, "BENCH_PASSWORD": password, "BENCH_NAME": name},
    )


def run(args: argparse.Namespace, rec: Record, data_dir: Path) -> None:
    person = args.person_dir.name.replace("_", " ")
    photos = sorted(p for p in args.person_dir.iterdir() if p.suffix.lower() in {".jpg", ".jpeg"})
    photos = photos[: args.photos]
    if len(photos) < args.photos:
        raise StepFailed(f"{args.person_dir} has {len(photos)} photos, {args.photos} asked for")
    captions: dict[str, str] = {}
    if args.captions:
        captions = json.loads(args.captions.read_text())
    small_budget = args.minutes < 15
    steps_cap = args.steps or (
        max(10, round(args.minutes * 60 / BUSY_SECONDS_PER_STEP)) if small_budget else None
    )
    extra_env = {
        "MEMORIAL_ADMIN_EMAIL": REVIEWER_EMAIL,
        "MEMORIAL_ADMIN_PASSWORD": secrets.token_urlsafe(18),
    }
    if steps_cap:
        extra_env["MEMORIAL_JOB_ENGINE_OVERRIDES"] = json.dumps({"steps": steps_cap})
    owner_password = secrets.token_urlsafe(18)
    rec.data.update(
        person=person,
        photos=len(photos),
        captions_file=str(args.captions) if args.captions else None,
        minutes_asked=args.minutes,
        steps_cap=steps_cap,
        data_dir=str(data_dir),
    )
    instance = Instance(data_dir, args.port or free_port(), extra_env)
    rec.data["url"] = instance.url
    try:
        with rec.step("start Memorial (launcher)"):
            instance.start(timeout=300)
        with rec.step("create the owner's account (manage.py shell)"):
            make_owner(instance, OWNER_EMAIL, owner_password, "June")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                family_path(
                    browser, instance, rec, person, photos, captions, owner_password, extra_env
                )
            finally:
                browser.close()
    finally:
        rec.data["machine"]["load_at_end"] = list(os.getloadavg())
        rec.data["worker_speed_probe"] = instance.log_lines("training speed of")
        if "failed_step" in rec.data:
            rec.data["launcher_log_tail"] = instance.log_tail()
        print("stopping Memorial ...", flush=True)
        instance.stop()


def family_path(
    browser: Browser,
    instance: Instance,
    rec: Record,
    person: str,
    photos: list[Path],
    captions: dict[str, str],
    owner_password: str,
    extra_env: dict[str, str],
) -> None:
    base = instance.url
    data = rec.data
    owner_context = browser.new_context(viewport=VIEWPORT)
    page = rec.watch(owner_context.new_page())
    try:
        with rec.step("owner signs in", page):
            sign_in(page, base, OWNER_EMAIL, owner_password)
        with rec.step("owner creates the memorial", page):
            memorial = create_memorial(page, base, person)
        with rec.step(f"owner uploads {len(photos)} photos", page):
            ids = upload(page, photos)
        with rec.step("owner writes the captions in the caption editor", page):
            wanted = {ids[p.name]: captions[p.name] for p in photos if p.name in captions}
            data["captioned"] = write_captions(page, base, memorial, wanted) if wanted else 0
        with rec.step("owner records consent (training, generated photos)", page):
            attest_consent(page, base, memorial, "June Bush")
            see_ai_photos(page, base, memorial)
        reviewer_context = browser.new_context(viewport=VIEWPORT)
        try:
            staff = rec.watch(reviewer_context.new_page())
            with rec.step("staff reviewer approves the consent", staff):
                sign_in(staff, base, REVIEWER_EMAIL, extra_env["MEMORIAL_ADMIN_PASSWORD"])
                approve_consent(staff, base, person)
        finally:
            reviewer_context.close()
        with rec.step("wait for the worker's own speed test", page):
            data["speed_test_ready_after_start_s"] = wait_for_speed_test(instance, timeout=300)
            data["worker_speed_probe"] = instance.log_lines("training speed of")
        with rec.step("owner opens Train a model and starts Quick", page):
            page.goto(f"{base}/m/{memorial}/consent/")
            expect(page.locator('.consent-record[data-status="approved"]')).to_have_count(1)
            page.goto(f"{base}/m/{memorial}/train/")
            page.get_by_label("Quick: 64 px").check()
            budget, longer = budget_choice(page, data["minutes_asked"])
            page.get_by_label("Time budget").select_option(budget)
            data["budget_minutes"] = int(budget)
            data["budget_longer_than_asked"] = longer
            data["estimate"] = read_train_form(page)
            rec.shot(page, "train-form", show="#train-form")
            data["machine"]["load_at_training_start"] = list(os.getloadavg())
            page.get_by_role("button", name="Start training").click()
            page.wait_for_url("**/jobs/*/")
            job = page.url.rstrip("/").rsplit("/", 1)[-1]
            data["train_job"] = job
        with rec.step("owner watches the training job to its end", page):
            budget_s = min(
                int(budget) * 60.0,
                (data["steps_cap"] or 1e9) * BUSY_SECONDS_PER_STEP,
            )
            timeout = int(budget) * 60 * 1.5 + 1800
            watched = watch_training(page, base, job, budget_s, timeout, rec)
            data["machine"]["load_at_training_end"] = watched.pop("load_at_end")
            data["machine"]["load_at_training_running"] = watched.pop("load_at_running")
            data["training"] = summarise_training(watched, page, base, memorial, data)
            if watched["ledger"]["state"] != "succeeded":
                raise StepFailed(
                    f"the training ended {watched['ledger']['state']}: "
                    f"{watched['ledger']['error'] or watched['ledger']['message']}"
                )
        with rec.step("owner waits for the evaluation and reads the verdict", page):
            page.get_by_role("link", name="Open the model").click()
            page.wait_for_url("**/models/*/")
            model_url = page.url
            data["evaluation"] = wait_for_evaluation(page, model_url, timeout=1800)
            rec.shot(page, "model-verdict")
            rec.shot(page, "model-evaluation", show="#evaluation", element=True)
            print(f"    verdict: {data['evaluation']['verdict'] or 'learned the face'}")
        with rec.step("owner generates four photos", page):
            page.goto(model_url)
            data["generation"] = generate(page, 4, timeout=1200)
            gallery = rec.watch(page.context.new_page())
            gallery.goto(f"{base}/m/{memorial}/?kind=generated")
            tiles = gallery.locator(".badge--ai:not(#lightbox-badge)")  # one per photo tile
            data["generation"]["in_gallery"] = tiles.count()
            gallery.close()
            rec.shot(page, "generated", show="#job")  # the last: at most 8 files with a failure
    finally:
        owner_context.close()


def summarise_training(
    watched: dict[str, Any], page: Page, base: str, memorial: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Durations from the ledger: submitted (the preparation job's creation) to the training's
    end, what the form's estimate covers; and the training job's own start to end."""
    train = watched["ledger"]
    jobs = page.request.get(f"{base}/api/memorials/{memorial}/jobs/").json()
    jobs = jobs.get("results", jobs) if isinstance(jobs, dict) else jobs
    prepare = next((j for j in jobs if j["kind"] == "prepare"), None)
    submitted = prepare["created_at"] if prepare else train["created_at"]
    real = seconds_between(submitted, train["finished_at"])
    estimate = data["estimate"]["seconds"]
    # The engine chooses the batch when the job does not set one; the speed test uses the same.
    batch = train["parameters"].get("engine", {}).get("batch")
    probe = re.search(r"'batch': (\d+)", " ".join(data.get("worker_speed_probe") or []))
    batch = batch or (int(probe.group(1)) if probe else None)
    return {
        "state": train["state"],
        "message": train["message"],
        "steps": train["step"],
        "total_steps": train["total"],
        "images_per_second": train["images_per_second"],
        "batch": batch,
        "images": train["step"] * batch if batch else None,
        "engine": train["parameters"].get("engine"),
        "prior": train["parameters"].get("prior", ""),
        "attempts": train["attempts"],
        "preparation_seconds": (
            seconds_between(prepare["started_at"], prepare["finished_at"]) if prepare else None
        ),
        "real_seconds_submitted_to_end": real,
        "training_seconds_start_to_end": seconds_between(train["started_at"], train["finished_at"]),
        "estimate_seconds": estimate,
        "ratio_real_to_estimate": round(real / estimate, 2) if real and estimate else None,
        "readings": watched["readings"],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--person-dir", type=Path, default=DEFAULT_PERSON)
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument(
        "--captions",
        type=Path,
        default=None,
        help="JSON: file name -> caption (default bench/captions/<person>.json if it exists)",
    )
    parser.add_argument("--minutes", type=int, default=15, help="time budget to choose")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="end the training after this many steps (MEMORIAL_JOB_ENGINE_OVERRIDES); "
        "by default only when --minutes is under the smallest budget",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a new temp dir")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.person_dir.is_dir():
        parser.error(f"--person-dir {args.person_dir} is not a folder")
    if args.captions is not None and not args.captions.is_file():
        parser.error(f"--captions {args.captions} is not a file")
    if args.captions is None:
        default = ROOT / "bench" / "captions" / f"{args.person_dir.name}.json"
        args.captions = default if default.exists() else None
    if args.out is None:
        day = datetime.date.today().isoformat()
        args.out = ROOT / "bench" / "results" / "quick" / f"{day}-{args.person_dir.name}.json"
    return args


def interrupted(signum: int, frame: object) -> None:
    """SIGTERM stops the run as Ctrl-C does: the browser closes and Memorial is stopped."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    shots = args.out.with_suffix("")
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    made_dir = args.data_dir is None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="memorial-quick-"))
    rec = Record(args.out, shots)
    signal.signal(signal.SIGTERM, interrupted)
    code = 0
    try:
        run(args, rec, data_dir)
    except StepFailed as failure:
        rec.data["error"] = str(failure)
        print(f"FAILED: {failure}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        rec.data["error"] = "interrupted"
        print("interrupted", file=sys.stderr)
        code = 130
    finally:
        rec.write()
        print(f"wrote {args.out} and {len(rec.data['screenshots'])} screenshots in {shots}")
        if made_dir and not args.keep and code == 0:
            shutil.rmtree(data_dir, ignore_errors=True)
            Path(f"{data_dir}-launcher.log").unlink(missing_ok=True)
        else:
            print(f"data folder kept: {data_dir} (log {data_dir}-launcher.log)")
    return code


if __name__ == "__main__":
    sys.exit(main())
