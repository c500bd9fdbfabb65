"""Content-Security-Policy: own files only, and the one inline script carries the nonce."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_policy_and_the_inline_script_its_nonce(client_as):
    response = client_as(None).get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.content.decode())
    assert scripts == [f' nonce="{nonce}"']


def test_swagger_ui_needs_no_inline_script(family, client_as):
    response = client_as(family.owner).get("/api/docs/")
    html = response.content.decode()
    assert "<script>" not in html and "?script" in html.replace("&amp;", "&")
    directives = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert "unsafe-inline" not in directives["script-src"]
    assert "'unsafe-inline'" in directives["style-src"]  # Swagger UI's one <style> block
