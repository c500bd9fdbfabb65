"""Messages that workers write to the ledger, kept as a message id plus parameters and translated
when a person reads them.

A worker has no reader: it cannot know in which language the job page, the API client or each
websocket subscriber wants the text. So it stores the English msgid and its parameters in
``Job.message_code`` / ``Job.error_code`` (and the English text in ``Job.message`` / ``Job.error``,
for the admin, logs and older clients), and pages, the API and the websocket consumers render the
code in the reader's language. Write each msgid with ``gettext_noop`` (``ngettext_lazy`` for a
plural pair) where it is used, so ``makemessages`` finds it.

A message is plain JSON:

* ``{"id": msgid, "params": {...}}``: ``gettext(msgid) % params``;
* ``{"id": singular, "plural": plural, "n": count, "params": {...}}``: ``ngettext``;
* ``{"text": "..."}``: words that have no translation (an engine's English error);
* ``{"join": [message, ...], "sep": " "}``: sentences one after the other.

A parameter may itself be a message (rendered first). A stored code carries ``"en"``, the English
it was written with: if another writer later changed the plain text only, the code is stale and
the plain text is shown instead.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext, ngettext

Msg = dict[str, Any]
FIELDS = ("message", "error")


def t(msgid: str, **params: Any) -> Msg:
    """A translatable message; mark ``msgid`` with gettext_noop at the call."""
    return {"id": str(msgid), "params": params} if params else {"id": str(msgid)}


def nt(singular: str, plural: str, n: int, **params: Any) -> Msg:
    """A message with a plural form chosen by ``n`` in the reader's language."""
    return {"id": str(singular), "plural": str(plural), "n": int(n), "params": params}


def text(words: str) -> Msg:
    """Words without a translation (shown as they are in every language)."""
    return {"text": str(words)}


def refusal(decision: Any) -> Msg:
    """A consent gate's refusal as a ledger message, translated for each reader where it can be."""
    return decision.code or text(decision.reason)


def join(*parts: Msg | str | None, sep: str = " ") -> Msg:
    """Sentences one after the other (empty parts left out)."""
    kept = [as_msg(p) for p in parts if p]
    return kept[0] if len(kept) == 1 else {"join": kept, "sep": sep}


def label(lazy: Any) -> Msg:
    """A lazily translated label (a model choice) as a message: its msgid, untranslated."""
    with translation.override(None):
        return t(str(lazy))


def as_msg(value: Msg | str) -> Msg:
    return value if isinstance(value, dict) else text(value)


def is_msg(value: Any) -> bool:
    return isinstance(value, dict) and bool({"id", "text", "join"} & value.keys())


def render(msg: Msg) -> str:
    """The message in the active language."""
    if "join" in msg:
        return msg.get("sep", " ").join(render(part) for part in msg["join"])
    if "id" not in msg:
        return str(msg.get("text", ""))
    params = {k: render(v) if is_msg(v) else v for k, v in (msg.get("params") or {}).items()}
    if "plural" in msg:
        template = ngettext(msg["id"], msg["plural"], msg["n"])
        params.setdefault("n", msg["n"])
    else:
        template = gettext(msg["id"])
    if not params:
        return template
    try:
        return template % params
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
        fallback = msg["plural"] if "plural" in msg and msg["n"] != 1 else msg["id"]
        return fallback % params


def english(msg: Msg) -> str:
    with translation.override("en"):
        return render(msg)


def ledger_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Turn ``message``/``error`` given as messages into the plain English field plus its code;
    plain strings clear the code (so a stale translation is never shown)."""
    out = dict(values)
    for name in FIELDS:
        if name not in values:
            continue
        value = values[name]
        if is_msg(value):
            words = english(value)
            out[name] = words
            out[f"{name}_code"] = {**value, "en": words}
        else:
            out[name] = "" if value is None else str(value)
            out[f"{name}_code"] = {}
    return out


def shown(plain: str, code: Msg | None) -> str:
    """What a reader sees: the code in their language if it still matches the plain text."""
    if code and code.get("en") == plain:
        try:
            return render(code)
        except Exception:  # a malformed code must never break a page
            return plain
    return plain
