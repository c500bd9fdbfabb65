"""The public "Verify a file" page: does a file carry this instance's provenance?"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from memorial.provenance.checks import check
from memorial.provenance.forms import VerifyForm


@require_http_methods(["GET", "POST"])
def verify_file(request: HttpRequest) -> HttpResponse:
    form, result, status = VerifyForm(), None, 200
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
        limited = is_ratelimited(
            request,
            group="provenance.verify",
            key="ip",
            rate=getattr(settings, "PROVENANCE_VERIFY_RATE", "60/h"),
            method="POST",
            increment=True,
        )
        if limited:
            form.add_error(None, _("Too many files were checked from your address. Please wait."))
            status = 429
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            limit = settings.UPLOAD_MAX_BYTES
            if upload.size > limit:
                form.add_error(
                    "file",
                    _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)},
                )
                status = 413
            else:
                result = check(upload.read(), request.user)
        else:
            status = 400
    return render(
        request, "provenance/verify.html", {"form": form, "result": result}, status=status
    )
