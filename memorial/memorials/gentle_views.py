"""Pages for gentle viewing: a member's choice of what AI-made items they see, the owner's AI
feature switches, and the public "About AI-made items" page. Access via memorial.policy."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from memorial.memorials import gentle
from memorial.memorials.forms import AIFeaturesForm, ViewingForm
from memorial.memorials.models import Memorial
from memorial.policy import Action, require


def _next_url(request: HttpRequest, memorial: Memorial) -> str:
    """Where to go after choosing: back to the page that asked (same site only), else the
    gallery."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return memorial.get_absolute_url()


@login_required
@require_http_methods(["GET", "POST"])
def viewing_choice(request: HttpRequest, memorial_id) -> HttpResponse:
    """ "What you see": the explanation of AI-made items here and the member's choice."""
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, Action.CHOOSE_VIEWING, memorial)
    current = gentle.current_choice(request.user, memorial)
    form = ViewingForm(request.POST or None, initial={"choice": current or gentle.Choice.REAL})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            photos, videos = gentle.CHOICE_FLAGS[gentle.Choice(form.cleaned_data["choice"])]
            gentle.save_choice(request.user, memorial, photos, videos)
            messages.success(
                request, _("Your choice has been saved. You can change it at any time.")
            )
            return redirect(_next_url(request, memorial))
        status = 400
    context = {
        "memorial": memorial,
        "form": form,
        "current": current,
        "counts": gentle.counts(memorial),
        "makers": gentle.makers(memorial),
        "section": "viewing",
    }
    return render(request, "memorials/viewing.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def ai_features(request: HttpRequest, memorial_id) -> HttpResponse:
    """The owner's switches: which AI features exist at all for this memorial."""
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, Action.MANAGE_AI_FEATURES, memorial)
    form = AIFeaturesForm(request.POST or None, instance=memorial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("The AI features for this memorial have been saved."))
            return redirect("memorials:ai-features", memorial_id=memorial.pk)
        status = 400
    return render(
        request, "memorials/ai_features.html", {"memorial": memorial, "form": form}, status=status
    )


def about_ai(request: HttpRequest) -> HttpResponse:
    """What the labels, the visible mark, the invisible watermark and the C2PA manifest mean,
    how to verify a file and how to ask for removal. Public: linked from every label."""
    context = {
        "verify_url": reverse("provenance:verify"),
        "takedown_url": reverse("moderation:takedown"),
    }
    return render(request, "memorials/about_ai.html", context)
