"""docker-compose.yml, Dockerfile, .env.example and nginx.conf agree with the code.

Docker is not available here, so the files are parsed and checked against what the
settings module actually reads (found by parsing its source), the Celery queues, and
each other. The postgres entrypoint and the health-check script are run for real.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_SOURCES = [ROOT / "memorial" / "settings.py", ROOT / "memorial" / "config.py"]
APP_SERVICES = {"web", "worker-cpu", "worker-gpu", "beat"}
# What a production deployment must set; the rest have safe defaults.
NEEDED_IN_PRODUCTION = {
    "DATABASE_URL",
    "REDIS_URL",
    "MEMORIAL_SECRET_KEY",
    "MEMORIAL_ALLOWED_HOSTS",
    "MEMORIAL_CSRF_TRUSTED_ORIGINS",
    "MEMORIAL_SITE_URL",
    "MEMORIAL_HTTPS",
    "MEMORIAL_DATA_DIR",
    "MEMORIAL_S3_BUCKET",
    "MEMORIAL_S3_ENDPOINT_URL",
    "MEMORIAL_S3_PUBLIC_ENDPOINT_URL",
    "MEMORIAL_S3_ACCESS_KEY",
    "MEMORIAL_S3_SECRET_KEY",
}
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


# --- What the code reads -------------------------------------------------------------


def _is_environment(node: ast.AST) -> bool:
    """`env` (django-environ), `environ` (a mapping parameter) or `os.environ`."""
    if isinstance(node, ast.Name):
        return node.id in {"env", "environ"}
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def env_reads(path: Path) -> set[str]:
    """Names passed to env(...), env.xxx(...), os.environ.get/[...], environ.get, os.getenv."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        name = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if (
                (isinstance(func, ast.Name) and func.id == "env")
                or (isinstance(func, ast.Attribute) and _is_environment(func.value))
                or (
                    isinstance(func, ast.Attribute)
                    and func.attr == "getenv"
                    and isinstance(func.value, ast.Name)
                    and func.value.id == "os"
                )
            ):
                name = _literal(node.args[0])
        elif isinstance(node, ast.Subscript) and _is_environment(node.value):
            name = _literal(node.slice)
        if name and ENV_NAME.match(name):
            names.add(name)
    return names


@pytest.fixture(scope="module")
def settings_reads() -> set[str]:
    names = set().union(*(env_reads(path) for path in SETTINGS_SOURCES))
    # The collector itself must work, or every subset check below would be hollow.
    assert {"DATABASE_URL", "MEMORIAL_SECRET_KEY", "MEMORIAL_DATA_DIR"} <= names
    assert {"MEMORIAL_S3_BUCKET", "MEMORIAL_HTTPS", "REDIS_URL"} <= names
    return names


def celery_queues() -> set[str]:
    tree = ast.parse((ROOT / "memorial" / "celery.py").read_text())
    return {
        _literal(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Queue"
        and node.args
    } - {None}


# --- What the deployment files say ---------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def read_env_example() -> tuple[dict[str, str], set[str]]:
    """(active KEY=value lines, every documented key including `# KEY=default` lines)."""
    active: dict[str, str] = {}
    documented: set[str] = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        if match := re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line):
            assert match[1] not in active, f"{match[1]} is set twice"
            active[match[1]] = match[2]
            documented.add(match[1])
        elif match := re.match(r"^#\s*([A-Z][A-Z0-9_]*)=", line):
            documented.add(match[1])
    return active, documented


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_example()[0]


def environment_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def env_files_of(service: dict) -> list[str]:
    files = service.get("env_file") or []
    files = [files] if isinstance(files, str) else files
    return [f if isinstance(f, str) else f["path"] for f in files]


def received_env(service: dict, env_example: dict[str, str]) -> dict[str, str]:
    """What the container sees: the .env keys (as .env.example sets them), then `environment:`."""
    received: dict[str, str] = {}
    for name in env_files_of(service):
        assert name == ".env", f"app services read the one .env, not {name}"
        received.update(env_example)
    received.update(environment_of(service))
    return received


def argv(command) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def option(args: list[str], *flags: str) -> str | None:
    for i, arg in enumerate(args):
        for flag in flags:
            if arg == flag and i + 1 < len(args):
                return args[i + 1]
            if flag.startswith("--") and arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
    return None


def interpolated(value: str) -> set[str]:
    """Variables docker compose substitutes in a value (`$$` is a literal dollar)."""
    return set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", value))


# --- The tests -----------------------------------------------------------------------


def test_app_services_share_one_env_file(services):
    with_env_file = {name for name, svc in services.items() if env_files_of(svc)}
    assert with_env_file == APP_SERVICES
    for name in APP_SERVICES:
        assert env_files_of(services[name]) == [".env"]


def test_app_services_receive_only_variables_the_settings_read(
    services, env_example, settings_reads
):
    for name in APP_SERVICES:
        received = set(received_env(services[name], env_example))
        unknown = received - settings_reads
        assert not unknown, f"{name} gets variables nothing reads: {sorted(unknown)}"


def test_app_services_receive_everything_production_needs(services, env_example, settings_reads):
    assert settings_reads >= NEEDED_IN_PRODUCTION  # the list above is not stale
    for name in APP_SERVICES:
        received = received_env(services[name], env_example)
        missing = {key for key in NEEDED_IN_PRODUCTION if not received.get(key, "").strip()}
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert received["MEMORIAL_HTTPS"].lower() in {"true", "1", "yes", "on"}


def test_env_example_documents_every_variable_the_settings_read(settings_reads):
    documented = read_env_example()[1]
    assert settings_reads - documented == set()


def test_env_example_sites_agree(env_example):
    site = urlsplit(env_example["MEMORIAL_SITE_URL"])
    assert site.scheme == "https"
    assert site.hostname in env_example["MEMORIAL_ALLOWED_HOSTS"].split(",")
    origins = env_example["MEMORIAL_CSRF_TRUSTED_ORIGINS"].split(",")
    assert f"{site.scheme}://{site.netloc}" in origins


def test_settings_load_from_the_env_example(env_example, tmp_path):
    """Every value in .env.example parses, and gives the production stack (in a fresh process)."""
    script = (
        "import json, django; from django.conf import settings as s; django.setup();"
        "print(json.dumps({'db': s.DATABASES['default']['ENGINE'],"
        " 'host': s.DATABASES['default']['HOST'], 'broker': s.CELERY_BROKER_URL,"
        " 'storage': s.STORAGES['default']['BACKEND'], 'secure': s.SESSION_COOKIE_SECURE,"
        " 'redirect': s.SECURE_SSL_REDIRECT, 'debug': s.DEBUG, 'data': str(s.DATA_DIR)}))"
    )
    env = {key: value for key, value in os.environ.items() if not ENV_NAME.match(key)}
    env.update(
        PATH=os.environ["PATH"], HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="memorial.settings"
    )
    env.update(env_example)
    env["MEMORIAL_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {
        "db": "django.db.backends.postgresql",
        "host": "postgres",
        "broker": env_example["REDIS_URL"],
        "storage": "memorial.core.storage.PrivateS3Storage",
        "secure": True,
        "redirect": True,
        "debug": False,
        "data": str(tmp_path / "data"),
    }


def test_compose_substitutes_only_variables_the_env_example_sets(env_example):
    text = (ROOT / "docker-compose.yml").read_text()
    used = interpolated(text)
    assert used, "expected ${...} substitutions for the postgres and minio credentials"
    assert used - set(env_example) == set()


def test_worker_queues_match_the_celery_app(services):
    queues = celery_queues()
    assert queues == {"cpu", "gpu"}
    consumed: dict[str, set[str]] = {}
    for name in ("worker-cpu", "worker-gpu"):
        args = argv(services[name]["command"])
        assert args[:4] == ["celery", "-A", "memorial", "worker"], args
        consumed[name] = set((option(args, "-Q", "--queues") or "").split(","))
        assert consumed[name] <= queues, f"{name} listens on unknown queues"
    assert consumed == {"worker-cpu": {"cpu"}, "worker-gpu": {"gpu"}}


def test_gpu_worker_runs_one_job_at_a_time_on_an_nvidia_gpu(services):
    gpu = services["worker-gpu"]
    assert option(argv(gpu["command"]), "-c", "--concurrency") == "1"
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert any(
        d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) and d.get("count", 1)
        for d in devices
    )
    assert "deploy" not in services["worker-cpu"]
    assert "/whl/cu" in gpu["build"]["args"]["TORCH_INDEX_URL"]
    assert gpu["image"] != services["worker-cpu"]["image"]
    assert services["worker-cpu"]["build"]["args"]["TORCH_INDEX_URL"].endswith("/whl/cpu")


def test_web_migrates_then_serves_the_asgi_app_with_daphne(services):
    web = services["web"]
    args = argv(web["command"])
    script = args[-1] if args[:2] == ["sh", "-c"] else shlex.join(args)
    assert script.index("migrate") < script.index("collectstatic") < script.index("daphne")
    daphne = shlex.split(script[script.index("daphne") :])
    assert daphne[-1] == "memorial.asgi:application"
    assert option(daphne, "-b", "--bind") == "0.0.0.0"  # noqa: S104 (inside the container)
    port = option(daphne, "-p", "--port")
    assert any(str(p).endswith(f":{port}") for p in web["ports"])
    assert f":{port}/healthz" in " ".join(web["healthcheck"]["test"])


def _named_volume_mounts(service: dict) -> dict[str, str]:
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume["source"]
        else:
            source, target = volume.split(":")[:2]
            mounts[target] = source
    return mounts


def test_data_volume_is_mounted_where_each_app_service_keeps_its_data(
    compose, services, env_example
):
    sources = set()
    for name in APP_SERVICES:
        data_dir = received_env(services[name], env_example)["MEMORIAL_DATA_DIR"]
        mounts = _named_volume_mounts(services[name])
        assert data_dir in mounts, f"{name} keeps data in {data_dir} but mounts {mounts}"
        sources.add(mounts[data_dir])
    assert len(sources) == 1, "web and workers must share one data volume (local media)"
    assert sources <= set(compose["volumes"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(rf"MEMORIAL_DATA_DIR={re.escape(data_dir)}\b", dockerfile)


def test_every_stateful_service_keeps_its_data_in_a_named_volume(compose, services):
    expected = {"redis": "/data", "postgres": "/var/lib/postgresql/data", "minio": "/data"}
    for name, target in expected.items():
        assert _named_volume_mounts(services[name]).get(target) in compose["volumes"], name


def test_database_url_points_at_the_postgres_service(services, env_example):
    url = urlsplit(env_example["DATABASE_URL"])
    assert url.scheme in {"postgres", "postgresql"}
    assert url.hostname == "postgres" and "postgres" in services
    assert (url.port or 5432) == 5432
    postgres = services["postgres"]
    assert "PGPORT" not in environment_of(postgres) and "-p" not in argv(postgres["command"])
    assert interpolated(environment_of(postgres)["DATABASE_URL"]) == {"DATABASE_URL"}
    health = " ".join(postgres["healthcheck"]["test"])
    assert "pg_isready" in health and "5432" in health


def _run_postgres_entrypoint(tmp_path: Path, database_url: str) -> subprocess.CompletedProcess:
    """Run deploy/postgres-entrypoint.sh with the postgres image's entrypoint replaced by `env`."""
    fake = tmp_path / "bin" / "docker-entrypoint.sh"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text('#!/bin/sh\necho "ARGS=$*"\nenv\n')
    fake.chmod(0o755)
    return subprocess.run(
        ["sh", str(ROOT / "deploy" / "postgres-entrypoint.sh"), "postgres"],
        env={"PATH": f"{fake.parent}:/usr/bin:/bin", "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_postgres_credentials_are_derived_from_database_url(services, env_example, tmp_path):
    postgres = services["postgres"]
    script_mounts = [
        v for v in postgres["volumes"] if str(v).startswith("./deploy/postgres-entrypoint.sh:")
    ]
    assert len(script_mounts) == 1
    assert script_mounts[0].split(":")[1] in argv(postgres["entrypoint"])

    url = urlsplit(env_example["DATABASE_URL"])
    done = _run_postgres_entrypoint(tmp_path, env_example["DATABASE_URL"])
    assert done.returncode == 0, done.stderr
    seen = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert seen["ARGS"] == "postgres"
    assert seen["POSTGRES_USER"] == url.username
    assert seen["POSTGRES_PASSWORD"] == url.password
    assert seen["POSTGRES_DB"] == url.path.lstrip("/")
    assert "DATABASE_URL" not in seen


@pytest.mark.parametrize(
    "bad",
    [
        "postgres://memorial@postgres:5432/memorial",  # no password
        "postgres://memorial:p%40ss@postgres:5432/memorial",  # percent-escape
        "mysql://memorial:secret@postgres:3306/memorial",
        "postgres://memorial:secret@postgres:5432/",
    ],
)
def test_postgres_entrypoint_refuses_a_database_url_it_cannot_honour(tmp_path, bad):
    done = _run_postgres_entrypoint(tmp_path, bad)
    assert done.returncode == 64
    assert "DATABASE_URL" in done.stderr
    assert "POSTGRES_PASSWORD" not in done.stdout


def test_redis_url_points_at_redis_with_append_only_persistence(services, env_example):
    url = urlsplit(env_example["REDIS_URL"])
    assert url.scheme == "redis" and url.hostname == "redis" and "redis" in services
    assert (url.port or 6379) == 6379
    args = argv(services["redis"]["command"])
    assert option(args, "--appendonly") == "yes"
    assert option(args, "--port") in (None, "6379")


def test_s3_settings_point_at_minio_with_the_same_credentials(services, env_example):
    endpoint = urlsplit(env_example["MEMORIAL_S3_ENDPOINT_URL"])
    assert endpoint.hostname == "minio" and (endpoint.port or 80) == 9000
    minio = services["minio"]
    assert option(argv(minio["command"]), "--address") in (None, ":9000")
    minio_env = environment_of(minio)
    assert interpolated(minio_env["MINIO_ROOT_USER"]) == {"MEMORIAL_S3_ACCESS_KEY"}
    assert interpolated(minio_env["MINIO_ROOT_PASSWORD"]) == {"MEMORIAL_S3_SECRET_KEY"}
    assert len(env_example["MEMORIAL_S3_SECRET_KEY"]) >= 8  # MinIO refuses shorter

    # Browsers follow signed URLs to the public address: nginx must route it to MinIO,
    # passing the Host header through (it is part of the signature).
    public = urlsplit(env_example["MEMORIAL_S3_PUBLIC_ENDPOINT_URL"])
    assert public.scheme == "https"  # the pages are HTTPS; http images would be blocked
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    block = re.search(rf"server_name {re.escape(public.hostname)};(.*?)\n}}", nginx, re.S)
    assert block, f"nginx.conf has no server for {public.hostname}"
    assert "proxy_pass http://memorial_minio;" in block[1]
    assert "proxy_set_header Host $http_host;" in block[1]
    minio_port = next(str(p).split(":")[-2] for p in minio["ports"] if str(p).endswith(":9000"))
    assert re.search(rf"upstream memorial_minio \{{\s*server 127\.0\.0\.1:{minio_port};", nginx)

    create = services["createbucket"]
    assert interpolated(environment_of(create)["MEMORIAL_S3_BUCKET"]) == {"MEMORIAL_S3_BUCKET"}
    script = " ".join(argv(create["command"]))
    assert "mc mb" in script and '"memorial/$$MEMORIAL_S3_BUCKET"' in script
    assert 'mc anonymous set none "memorial/$$MEMORIAL_S3_BUCKET"' in script
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["createbucket"]["condition"] == (
            "service_completed_successfully"
        )


def test_every_service_is_health_checked_and_waited_for(services):
    one_shot = {
        name for name, svc in services.items() if str(svc.get("restart")) in {"no", "False"}
    }
    assert one_shot == {"createbucket"}
    for name, service in services.items():
        if name not in one_shot:
            test = service.get("healthcheck", {}).get("test")
            assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no health check"
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for target, spec in depends.items():
            assert target in services, f"{name} depends on unknown {target}"
            expected = "service_completed_successfully" if target in one_shot else "service_healthy"
            assert spec["condition"] == expected, f"{name} → {target}"
    for name in APP_SERVICES:
        assert {"postgres", "redis"} <= set(services[name]["depends_on"])


def test_dockerfile_builds_a_non_root_cpu_image_with_a_health_check():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"^ARG TORCH_VERSION=2\.13\.0$", text, re.M)
    assert re.search(r"^ARG TORCH_INDEX_URL=https://download\.pytorch\.org/whl/cpu$", text, re.M)
    assert '"torch==${TORCH_VERSION}"' in text and "torchvision" not in text.replace(
        "torchvision is never installed", ""
    )
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    health = re.search(r"^HEALTHCHECK .*\n?.*CMD (.+)$", text, re.M)
    assert health and "/healthz" in health[1] and "deploy/healthcheck.py" in health[1]
    assert re.search(r"^CMD \[\"daphne\".*\"memorial\.asgi:application\"\]$", text, re.M)


def test_nginx_proxies_websockets_and_keeps_private_media_internal(services):
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    documented = (ROOT / ".env.example").read_text()
    prefix = re.search(r"^#\s*MEMORIAL_X_ACCEL_PREFIX=(\S+)$", documented, re.M)[1]
    internal = re.search(rf"location {re.escape(prefix.rstrip('/'))}/ \{{([^}}]*)\}}", text)
    assert internal, f"no nginx location for {prefix}"
    assert re.search(r"^\s*internal;", internal[1], re.M)
    assert "alias" in internal[1] and internal[1].split("alias", 1)[1].split(";")[
        0
    ].strip().endswith("/media/")

    web_port = next(str(p).split(":")[-1] for p in services["web"]["ports"])
    assert re.search(rf"upstream memorial_web \{{\s*server 127\.0\.0\.1:{web_port};", text)
    websocket = re.search(r"location /ws/ \{([^}]*)\}", text)
    assert websocket and "proxy_pass http://memorial_web;" in websocket[1]
    assert "proxy_set_header Upgrade $http_upgrade;" in websocket[1]
    assert "proxy_set_header Connection $connection_upgrade;" in websocket[1]
    assert "proxy_http_version 1.1;" in websocket[1]
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in websocket[1]


def test_health_check_script_passes_a_live_server_and_fails_a_dead_one(daphne_server):
    script = ROOT / "deploy" / "healthcheck.py"
    env = {**os.environ, "MEMORIAL_ALLOWED_HOSTS": "localhost,127.0.0.1"}

    alive = subprocess.run(
        [sys.executable, str(script), f"{daphne_server.url}/healthz"], env=env, timeout=30
    )
    assert alive.returncode == 0

    wrong_host = subprocess.run(
        [sys.executable, str(script), f"{daphne_server.url}/healthz"],
        env={**env, "MEMORIAL_ALLOWED_HOSTS": "memorial.example.org"},
        timeout=30,
    )
    assert wrong_host.returncode == 1  # the app refuses hosts it does not serve

    from tests.servers import free_port

    dead = subprocess.run(
        [sys.executable, str(script), f"http://127.0.0.1:{free_port()}/healthz"],
        env=env,
        timeout=30,
    )
    assert dead.returncode == 1
