"""JSON endpoints for staff: the consent review queue and its decisions.

The decision itself is `moderation.services.review_consent`, the same step the staff page
takes: it writes the audit entry and tells the memorial's owners.
"""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from memorial.accounts.two_factor import staff_verified
from memorial.consent.models import ConsentRecord, Status
from memorial.consent.serializers import ConsentRecordSerializer
from memorial.core.api import (
    BODY,
    ApiError,
    JSONParser,
    MemorialAPIView,
    StrictSerializer,
    errors,
    not_found_error,
)
from memorial.moderation.services import (
    ConfirmationRequired,
    ModerationError,
    ReviewNotAllowed,
    review_consent,
)
from memorial.policy import (
    SOLE_REVIEWER_REASON_MIN,
    Action,
    ConsentReviewCheck,
    allows,
    check_consent_review,
)


class ReviewSerializer(StrictSerializer):
    decision = serializers.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))], label=_("decision")
    )
    reason = serializers.CharField(
        max_length=5000,
        label=_("reason"),
        help_text="Why; sent to the memorial's owners and kept in the audit log.",
    )
    sole_reviewer_reason = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        label=_("why you decide although you are part of this record"),
        help_text=(
            "Only for a reviewer who attested the record or belongs to its memorial, when no "
            f"other staff user could review it: at least {SOLE_REVIEWER_REASON_MIN} characters, "
            "kept in the audit log. Otherwise such a reviewer is refused (403)."
        ),
    )


class PendingConsentSerializer(ConsentRecordSerializer):
    memorial_name = serializers.CharField(source="memorial.name", read_only=True)
    review_refusal = serializers.SerializerMethodField(
        help_text=(
            "Why you may not simply review this record (`attester`: you recorded it, `member`: "
            "you belong to its memorial); null when you may."
        )
    )
    sole_reviewer = serializers.SerializerMethodField(
        help_text="True when you are part of the record but nobody else could review it: you may "
        "decide with `sole_reviewer_reason`."
    )

    class Meta(ConsentRecordSerializer.Meta):
        fields = [
            *ConsentRecordSerializer.Meta.fields,
            "memorial_name",
            "review_refusal",
            "sole_reviewer",
        ]

    def _check(self, record: ConsentRecord) -> ConsentReviewCheck:
        return check_consent_review(self.context["request"].user, record)

    def get_review_refusal(self, record: ConsentRecord) -> str | None:
        refusal = self._check(record).refusal
        return None if refusal is None else str(refusal)

    def get_sole_reviewer(self, record: ConsentRecord) -> bool:
        return self._check(record).needs_confirmation


def permit_staff(request: Request) -> None:
    """Staff only (404 to everyone else, like the staff pages), and with a code-verified
    session when two-factor sign-in applies."""
    if not allows(request.user, Action.REVIEW_CONSENT):
        raise exceptions.NotFound(gettext("There is no API endpoint at this address."))
    if not staff_verified(request.user):
        raise ApiError(
            gettext(
                "Staff work needs two-factor sign-in: sign in on the site with your "
                "authenticator code (API tokens cannot stand in for it)."
            ),
            403,
        )


@extend_schema(tags=["consent review"])
class PendingConsentView(MemorialAPIView):
    @extend_schema(
        summary="Consent records waiting for review, oldest first (staff)",
        responses={200: PendingConsentSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        permit_staff(request)
        records = (
            ConsentRecord.objects.filter(status=Status.PENDING)
            .select_related("memorial", "attested_by")
            .order_by("created_at", "pk")
        )
        context = {"request": request}
        return Response(PendingConsentSerializer(records, many=True, context=context).data)


@extend_schema(tags=["consent review"])
class ConsentReviewView(MemorialAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Approve or reject a pending consent record, with a reason (staff)",
        description=(
            "The owners are told by e-mail. A record already reviewed is a 409. Nobody reviews a "
            "record they are part of (they recorded it, or belong to its memorial): 403, unless "
            "nobody else could review it and `sole_reviewer_reason` says why (see the schema)."
        ),
        request=ReviewSerializer,
        responses={200: ConsentRecordSerializer, **errors(400, 401, 403, 404, 409, *BODY)},
    )
    def post(self, request: Request, record_id) -> Response:
        permit_staff(request)
        if not ConsentRecord.objects.filter(pk=record_id).exists():
            raise not_found_error("consent")
        form = ReviewSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            record = review_consent(
                record_id,
                request.user,
                approve=data["decision"] == "approve",
                reason=data["reason"],
                sole_reviewer_reason=data.get("sole_reviewer_reason", ""),
            )
        except ReviewNotAllowed as exc:
            raise ApiError(str(exc), 403) from None
        except ConfirmationRequired as exc:
            raise ApiError(str(exc), 400) from None
        except ModerationError as exc:
            status = 400 if not data["reason"].strip() else 409
            raise ApiError(str(exc), status) from None
        record = ConsentRecord.objects.select_related("attested_by").get(pk=record.pk)
        return Response(ConsentRecordSerializer(record).data)
