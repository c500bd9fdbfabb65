"""Container health check: does the web process answer /healthz?

Run by the image's HEALTHCHECK and docker-compose. Standard library only, so
it costs no Django start-up. It sends a Host the app accepts (the first of
MEMORIAL_ALLOWED_HOSTS) and says the request came over HTTPS, so neither
ALLOWED_HOSTS nor the HTTPS redirect turns a healthy server into a failed check.
"""

from __future__ import annotations

import os
import sys
from http.client import HTTPConnection
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def host_header() -> str:
    hosts = [h.strip() for h in os.environ.get("MEMORIAL_ALLOWED_HOSTS", "").split(",")]
    host = next((h for h in hosts if h), "localhost")
    return "localhost" if host == "*" else host.lstrip(".")


def check(url: str = DEFAULT_URL, timeout: float = 5.0) -> bool:
    target = urlsplit(url)
    connection = HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=timeout)
    try:
        connection.request(
            "GET",
            target.path or "/healthz",
            headers={"Host": host_header(), "X-Forwarded-Proto": "https"},
        )
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


if __name__ == "__main__":
    sys.exit(0 if check(*sys.argv[1:2]) else 1)
