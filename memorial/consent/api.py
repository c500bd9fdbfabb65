"""JSON endpoints for consent records: list, record, withdraw. Review is a staff page (later)."""

from __future__ import annotations

import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from memorial.consent.models import ConsentRecord, Status
from memorial.consent.serializers import ConsentRecordSerializer, check_evidence
from memorial.consent.services import WithdrawalError, withdraw
from memorial.core.api import (
    BODY,
    ApiError,
    JSONParser,
    MemorialAPIView,
    errors,
    memorial_for,
    not_found_error,
    permit,
)
from memorial.policy import Action

WITHDRAWABLE = (Status.PENDING, Status.APPROVED)


@extend_schema(tags=["consent"])
class ConsentListView(MemorialAPIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="Consent records of a memorial, newest first",
        responses={200: ConsentRecordSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.VIEW_CONSENT)
        records = memorial.consent_records.select_related("attested_by").order_by(
            "-created_at", "pk"
        )
        return Response(ConsentRecordSerializer(records, many=True).data)

    @extend_schema(
        summary="Record consent (it waits for staff review)",
        description=(
            "JSON, or multipart when an `evidence` file (PDF or picture, checked by content) "
            "comes with it; in multipart, repeat `scopes` once per scope."
        ),
        request={
            "application/json": ConsentRecordSerializer,
            "multipart/form-data": ConsentRecordSerializer,
        },
        responses={201: ConsentRecordSerializer, **errors(400, 401, 403, 404, *BODY)},
    )
    def post(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.MANAGE_CONSENT)
        form = ConsentRecordSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        uploaded = data.pop("evidence", None)
        evidence = check_evidence(uploaded) if uploaded is not None else None
        record = ConsentRecord(id=uuid.uuid4(), memorial=memorial, attested_by=request.user, **data)
        try:
            with transaction.atomic():
                if evidence is not None:
                    # The file first, the row last; a failed save removes the file again.
                    record.evidence.save("evidence", ContentFile(evidence.data), save=False)
                record.save(force_insert=True)
        except BaseException:
            if record.evidence:
                record.evidence.storage.delete(record.evidence.name)
            raise
        record = ConsentRecord.objects.select_related("attested_by").get(pk=record.pk)
        return Response(ConsentRecordSerializer(record).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["consent"])
class ConsentWithdrawView(MemorialAPIView):
    @extend_schema(
        summary="Withdraw a consent record",
        description="Pending and approved records can be withdrawn; anything else is a 409.",
        request=None,
        responses={200: ConsentRecordSerializer, **errors(401, 403, 404, 409)},
    )
    def post(self, request: Request, record_id) -> Response:
        record = (
            ConsentRecord.objects.select_related("memorial", "attested_by")
            .filter(pk=record_id)
            .first()
        )
        if record is None:
            raise not_found_error("consent")
        permit(request, Action.WITHDRAW_CONSENT, record, thing="consent")
        if record.status == Status.WITHDRAWN:
            raise ApiError(gettext("This consent has already been withdrawn."), 409)
        if record.status not in WITHDRAWABLE:
            raise ApiError(
                gettext("This consent was not approved, so there is nothing to withdraw."),
                409,
            )
        # Same cascade as the page: jobs stopped, everything generated deleted (consent.services).
        try:
            withdraw(record.pk, record.memorial, request.user)
        except WithdrawalError as exc:
            raise ApiError(str(exc), 409) from exc
        record = ConsentRecord.objects.select_related("attested_by").get(pk=record.pk)
        return Response(ConsentRecordSerializer(record).data)
