"""English and Simplified Chinese: the language is chosen per person and every string is translated."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import PhotoKind
from tests import images

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_accept_language_zh_hans_gives_a_chinese_sign_in_page(db):
    response = Client(headers={"accept-language": "zh-hans"}).get(reverse("accounts:login"))
    page = response.content.decode()
    assert '<html lang="zh-hans"' in page
    assert "登录" in page and "电子邮箱地址" in page
    assert "Sign in" not in page


def test_english_is_the_default(db):
    page = Client().get(reverse("accounts:login")).content.decode()
    assert '<html lang="en"' in page and "Sign in" in page
    assert not HAN.search(page.replace("简体中文", ""))  # only the switcher names Chinese


def test_language_switcher_remembers_the_choice(family, client_as):
    client = client_as(family.owner)
    gallery = family.memorial.get_absolute_url()
    page = client.get(gallery).content.decode()
    assert f'action="{reverse("set_language")}"' in page
    assert 'value="zh-hans"' in page
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": gallery})
    assert response.status_code == 302 and response["Location"] == gallery
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    chinese = client.get(gallery).content.decode()
    assert "我的纪念页" in chinese and "添加照片" in chinese and "退出登录" in chinese


def test_chinese_gallery_labels_generated_photos_and_consent(family, client_as):
    ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("g.jpg", images.jpeg(seed=70, width=64, height=48)),
        user=family.owner,
        attested=True,
        caption="窗边微笑",
        kind=PhotoKind.GENERATED,
    )
    client = client_as(family.viewer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(family.memorial.get_absolute_url()).content.decode()
    assert "AI 生成" in page
    assert 'alt="AI 生成的图像：窗边微笑"' in page
    assert "此纪念页尚未记录关于“生成新照片”的同意。" in page


def test_javascript_strings_come_translated(db):
    client = Client(headers={"accept-language": "zh-hans"})
    catalog = client.get(reverse("javascript-catalog")).content.decode()
    assert "\\u6b63\\u5728\\u4fdd\\u5b58" in catalog or "正在保存" in catalog  # "Saving…"
    english = Client().get(reverse("javascript-catalog")).content.decode()
    assert "正在保存" not in english and "\\u6b63\\u5728" not in english


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_message_is_translated_and_compiled(domain):
    po = polib.pofile(str(CATALOGS / f"{domain}.po"))
    assert len(po) > 0
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    placeholder = re.compile(r"%\(\w+\)s|\{\w+\}")
    for entry in po.translated_entries():
        text = entry.msgstr or entry.msgstr_plural.get(0, "")
        assert sorted(placeholder.findall(text)) == sorted(placeholder.findall(entry.msgid)), (
            entry.msgid
        )
        assert HAN.search(text) or text == entry.msgid, entry.msgid
    compiled = polib.mofile(str(CATALOGS / f"{domain}.mo"))
    mo = {(e.msgid, e.msgstr or e.msgstr_plural.get(0, "")) for e in compiled}
    want = {(e.msgid, e.msgstr or e.msgstr_plural.get(0, "")) for e in po.translated_entries()}
    assert want <= mo, "the .mo file is older than the .po file: run compilemessages"


def _template_strings() -> set[str]:
    found: set[str] = set()
    tag = re.compile(r"""\{%\s*(?:translate|trans)\s+(["'])(.*?)\1""")
    for path in (ROOT / "templates").rglob("*"):
        if path.is_file():
            found.update(m.group(2) for m in tag.finditer(path.read_text()))
    script = re.compile(r"""(?<![\w.])gettext\(\s*"((?:[^"\\]|\\.)*)"\s*\)""")
    for path in (ROOT / "static" / "js").glob("*.js"):
        found.update(m.group(1) for m in script.finditer(path.read_text()))
    return found


def test_every_interface_string_is_in_the_catalogs():
    known = {e.msgid for e in polib.pofile(str(CATALOGS / "django.po"))}
    known |= {e.msgid for e in polib.pofile(str(CATALOGS / "djangojs.po"))}
    missing = sorted(_template_strings() - known)
    assert not missing, f"run makemessages and translate: {missing}"
