"""Pages of the moderation work.

Public (no account): the takedown request form, its acknowledgement and the appeal
form behind a signed link. Staff: the consent review queue and the takedown
queue. Staff pages answer 404 to everyone else, as if they did not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from memorial.consent.models import ConsentRecord, Status
from memorial.memorials.models import Photo
from memorial.moderation import items as item_registry
from memorial.moderation import services
from memorial.moderation.forms import AppealForm, ReasonForm, TakedownForm
from memorial.moderation.models import OPEN_STATUSES, TakedownRequest, TakedownStatus
from memorial.policy import SOLE_REVIEWER_REASON_MIN, Action, allows, check_consent_review

log = logging.getLogger(__name__)
SESSION_REFERENCE = "moderation.takedown_reference"


def staff_page(action: Action) -> Callable:
    def decorate(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not allows(request.user, action):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


# --- Public: takedown requests


def _too_many_takedowns(request: HttpRequest) -> bool:
    """The rate limit counts in Redis. With Redis away it lets the request through: a person
    asking for a takedown is never turned away by our outage (the form's own checks stay)."""
    try:
        return is_ratelimited(
            request,
            group="moderation.takedown",
            key="ip",
            rate=settings.MEMORIAL_TAKEDOWN_RATE,
            method="POST",
            increment=True,
        )
    except (RedisError, OSError):
        log.warning("takedown rate limit not counted: Redis could not be reached", exc_info=True)
        return False


@require_http_methods(["GET", "POST"])
def takedown_form(request: HttpRequest) -> HttpResponse:
    form = TakedownForm(initial={"url": request.GET.get("url", "")[:500]})
    status = 200
    if request.method == "POST":
        limited = _too_many_takedowns(request)
        form = TakedownForm(request.POST)
        if limited:
            messages.error(
                request,
                _(
                    "Too many requests have been sent from your address. Please wait an hour "
                    "and try again, or write to us by e-mail."
                ),
            )
            status = 429
        elif form.is_bot:
            request.session.pop(SESSION_REFERENCE, None)
            return redirect("moderation:takedown_received")
        elif form.is_valid():
            takedown = form.save(commit=False)
            takedown.language = translation.get_language() or ""
            services.submit_takedown(takedown)
            request.session[SESSION_REFERENCE] = takedown.reference
            return redirect("moderation:takedown_received")
        else:
            status = 400
    return render(request, "moderation/takedown_form.html", {"form": form}, status=status)


def takedown_received(request: HttpRequest) -> HttpResponse:
    reference = request.session.get(SESSION_REFERENCE, "")
    return render(
        request,
        "moderation/takedown_received.html",
        {
            "reference": reference,
            "urgent_hours": settings.MEMORIAL_TAKEDOWN_URGENT_HOURS,
        },
    )


@require_http_methods(["GET", "POST"])
def takedown_appeal(request: HttpRequest, token: str) -> HttpResponse:
    try:
        takedown = services.takedown_from_token(token)
    except signing.SignatureExpired:
        return render(request, "moderation/appeal_unusable.html", {"expired": True}, status=410)
    except signing.BadSignature:
        return render(request, "moderation/appeal_unusable.html", {"expired": False}, status=404)
    form = AppealForm()
    status = 200
    if request.method == "POST":
        form = AppealForm(request.POST)
        if form.is_valid():
            try:
                services.appeal(takedown.pk, form.cleaned_data["text"])
            except services.ModerationError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(
                    request,
                    _("Thank you. Your appeal has been received and will be reviewed again."),
                )
                return redirect("moderation:takedown_appeal", token=token)
        else:
            status = 400
    takedown.refresh_from_db()
    return render(
        request,
        "moderation/appeal.html",
        {
            "takedown": takedown,
            "form": form,
            "can_appeal": takedown.status in ("actioned", "rejected"),
        },
        status=status,
    )


# --- Staff: consent review


def _pending_for(user) -> list[ConsentRecord]:
    """The pending records, oldest first, each with the policy's answer for this reviewer
    (`review_check`): the page says why a record is not theirs to decide."""
    records = list(
        ConsentRecord.objects.filter(status=Status.PENDING)
        .select_related("memorial", "attested_by")
        .order_by("created_at")
    )
    for record in records:
        record.review_check = check_consent_review(user, record)
    return records


def _queue_page(request: HttpRequest, *, error_for=None, errors=(), status: int = 200):
    return render(
        request,
        "moderation/consent_queue.html",
        {
            "records": _pending_for(request.user),
            "error_for": error_for,
            "errors": list(errors),
            "refused_message": services.refused_message(),
            "confirmation_message": services.confirmation_needed_message(),
            "confirmation_min": SOLE_REVIEWER_REASON_MIN,
            "section": "consent",
        },
        status=status,
    )


@staff_page(Action.REVIEW_CONSENT)
def consent_queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request)


@require_POST
@staff_page(Action.REVIEW_CONSENT)
def consent_review(request: HttpRequest, record_id) -> HttpResponse:
    record = get_object_or_404(ConsentRecord, pk=record_id)
    form = ReasonForm(request.POST)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        form.add_error(None, _("Please choose to approve or to reject."))
    if not form.is_valid():
        errors = [e for errors in form.errors.values() for e in errors]
        return _queue_page(request, error_for=record.pk, errors=errors, status=400)
    try:
        services.review_consent(
            record.pk,
            request.user,
            approve=decision == "approve",
            reason=form.cleaned_data["reason"],
            sole_reviewer_reason=request.POST.get("sole_reviewer_reason", "")[:5000],
        )
    except services.ReviewNotAllowed as exc:
        return _queue_page(request, error_for=record.pk, errors=[str(exc)], status=403)
    except services.ConfirmationRequired as exc:
        return _queue_page(request, error_for=record.pk, errors=[str(exc)], status=400)
    except services.ModerationError as exc:
        messages.error(request, str(exc))
        return redirect("moderation:consent_queue")
    if decision == "approve":
        messages.success(request, _("Approved. The owners have been told."))
    else:
        messages.success(request, _("Rejected. The owners have been told."))
    return redirect("moderation:consent_queue")


# --- Staff: takedown requests


@staff_page(Action.HANDLE_TAKEDOWNS)
def takedown_list(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    takedowns = TakedownRequest.objects.all()
    if show == "open":
        takedowns = takedowns.filter(status__in=OPEN_STATUSES)
    elif show in TakedownStatus.values:
        takedowns = takedowns.filter(status=show)
    now = timezone.now()
    takedowns = takedowns.annotate(
        late=Case(
            When(status__in=OPEN_STATUSES, deadline__lt=now, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("late", "deadline")
    return render(
        request,
        "moderation/takedown_list.html",
        {
            "takedowns": takedowns,
            "show": show,
            "statuses": TakedownStatus.choices,
            "now": now,
            "overdue_count": TakedownRequest.objects.overdue(now).count(),
            "section": "takedowns",
        },
    )


def _preview(takedown: TakedownRequest) -> list[item_registry.Item]:
    """The items a takedown would remove: the named photo, or for a memorial all its photos."""
    if takedown.photo_id:
        chosen = item_registry.HANDLERS["photo"].find([str(takedown.photo_id)])
    elif takedown.memorial_id:
        chosen = item_registry.photos_of(takedown.memorial_id)
    else:
        chosen = []
    return item_registry.impact(chosen)


@require_http_methods(["GET", "POST"])
@staff_page(Action.HANDLE_TAKEDOWNS)
def takedown_detail(request: HttpRequest, takedown_id) -> HttpResponse:
    takedown = get_object_or_404(TakedownRequest, pk=takedown_id)
    form = ReasonForm()
    status = 200
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "review":
                services.start_review(takedown.pk, request.user)
                messages.success(request, _("The request is now under review."))
                return redirect("moderation:takedown_detail", takedown_id=takedown.pk)
            if op == "purge":
                services.purge(takedown)
                messages.success(request, _("Deletion has been run again."))
                return redirect("moderation:takedown_detail", takedown_id=takedown.pk)
            if op not in ("action", "reject", "close"):
                raise services.ModerationError(_("Unknown step."))
            form = ReasonForm(request.POST)
            if form.is_valid():
                reason = form.cleaned_data["reason"]
                if op == "action":
                    chosen = item_registry.resolve_items(request.POST.getlist("item"))
                    services.action_takedown(takedown.pk, request.user, chosen, reason)
                    messages.success(
                        request,
                        _("The items are hidden and deleted. The requester has been told."),
                    )
                elif op == "reject":
                    services.reject_takedown(takedown.pk, request.user, reason)
                    messages.success(request, _("Rejected. The requester has been told."))
                else:
                    services.close_takedown(takedown.pk, request.user, reason)
                    messages.success(request, _("The request is closed."))
                return redirect("moderation:takedown_detail", takedown_id=takedown.pk)
            status = 400
        except services.ModerationError as exc:
            form.add_error(None, str(exc))
            status = 409 if op in ("review", "action", "reject", "close") else 400
        takedown.refresh_from_db()
    located = item_registry.locate(takedown.url)
    preview = _preview(takedown) if takedown.is_open else []
    photos = {
        str(p.pk): p
        for p in Photo.objects.filter(pk__in=[i.id for i in preview if i.kind == "photo"])
    }
    return render(
        request,
        "moderation/takedown_detail.html",
        {
            "takedown": takedown,
            "located": located,
            "preview": [
                (item, photos.get(item.id), item_registry.title(item.kind)) for item in preview
            ],
            "remaining": services.remaining(takedown) if takedown.removed_items else [],
            "form": form,
            "now": timezone.now(),
            "section": "takedowns",
        },
        status=status,
    )
