"""Pages for two-factor sign-in: set up an authenticator app, enter a code, remove it."""

from __future__ import annotations

import base64

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from memorial.accounts.two_factor import has_device, is_verified, may_use_two_factor
from memorial.audit.actions import AuditAction
from memorial.audit.services import record

DEVICE_NAME = "authenticator"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit():
            raise forms.ValidationError(_("The code is made of digits only."))
        return code


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _check(device, code: str) -> bool:
    """The device's own check: right time window, no reuse, throttled after failures."""
    return bool(device.verify_token(code))


def _unconfirmed(user) -> TOTPDevice:
    """The authenticator being set up: one per user, kept until it is confirmed or removed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, title=_("QR code for your authenticator app"), svgclass="qr-code"
    )


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Set up (scan, then confirm with a code) or remove the authenticator app."""
    user = request.user
    if not may_use_two_factor(user):
        raise Http404
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if request.POST.get("action") == "remove" and has_device(user):
            if any(_check(d, code) for d in devices_for_user(user, confirmed=True)):
                with transaction.atomic():
                    TOTPDevice.objects.filter(user=user).delete()
                    record(user, AuditAction.TWO_FACTOR_REMOVED, user)
                messages.success(request, _("Two-factor sign-in has been removed."))
                return redirect("accounts:two_factor")
            form.add_error("code", _("That code is not correct, or it has expired."))
        elif request.POST.get("action") == "confirm" and not has_device(user):
            device = _unconfirmed(user)
            if _check(device, code):
                with transaction.atomic():
                    device.confirmed = True
                    device.save(update_fields=["confirmed"])
                    record(user, AuditAction.TWO_FACTOR_ENABLED, user)
                otp_login(request, device)
                messages.success(
                    request,
                    _(
                        "Two-factor sign-in is on. You will be asked for a code after your password."
                    ),
                )
                return redirect(_next_url(request) if request.POST.get("next") else request.path)
            form.add_error("code", _("That code is not correct, or it has expired."))
    if form.errors:
        status = 400
    context = {"form": form, "enabled": has_device(user), "next": _next_url(request)}
    if not context["enabled"]:
        device = _unconfirmed(user)
        context.update(qr=qr_svg(device), secret=secret_text(device))
    return render(request, "accounts/two_factor.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """After the password: the code from the authenticator app, before any other page."""
    user = request.user
    if not has_device(user) or is_verified(user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            for device in devices_for_user(user, confirmed=True):
                if _check(device, form.cleaned_data["code"]):
                    otp_login(request, device)
                    return redirect(_next_url(request))
            form.add_error("code", _("That code is not correct, or it has expired."))
        status = 400
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )
