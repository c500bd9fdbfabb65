"""JSON endpoints for retiring a memorial: archive, cancel a deletion, download everything."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from memorial.core.api import BODY, JSONParser, MemorialAPIView, errors, memorial_for
from memorial.memorials import retire
from memorial.memorials.retire_views import zip_response
from memorial.memorials.serializers import ArchiveSerializer, MemorialSerializer
from memorial.policy import Action


@extend_schema(tags=["memorials"])
class MemorialArchiveView(MemorialAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Archive a memorial (read-only) or reopen it",
        description=(
            "An archived memorial can be viewed and exported; uploads, edits, consent records "
            "and generation answer 403 saying it is archived. Repeating a request changes nothing."
        ),
        request=ArchiveSerializer,
        responses={200: MemorialSerializer, **errors(400, 401, 403, 404, *BODY)},
    )
    def post(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.ARCHIVE_MEMORIAL)
        form = ArchiveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        retire.set_archived(memorial, request.user, form.validated_data["archived"])
        return Response(MemorialSerializer(memorial, context={"request": request}).data)


@extend_schema(tags=["memorials"])
class MemorialRestoreView(MemorialAPIView):
    @extend_schema(
        summary="Cancel a requested deletion",
        description=(
            "Possible until `delete_after`. Without a pending deletion nothing changes "
            "(repeating a request is safe)."
        ),
        request=None,
        responses={200: MemorialSerializer, **errors(401, 403, 404)},
    )
    def post(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.DELETE_MEMORIAL)
        retire.cancel_deletion(memorial, request.user, missing_ok=True)
        return Response(MemorialSerializer(memorial, context={"request": request}).data)


@extend_schema(tags=["memorials"])
class MemorialExportView(MemorialAPIView):
    @extend_schema(
        summary="Everything of a memorial as a zip",
        description=(
            "Streamed: original photos, generated images and videos, and `manifest.json` "
            "(memorial fields; per file its caption, date, place, tags, kind and SHA-256; for "
            "generated items the model, caption, seed and the AI-generated label; consent "
            "records' metadata without evidence files). Allowed on archived memorials and "
            "during the cooling-off period."
        ),
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip."),
            **errors(401, 403, 404),
        },
    )
    def get(self, request: Request, memorial_id):
        memorial = memorial_for(request, memorial_id, Action.EXPORT_MEMORIAL)
        return zip_response(request._request, memorial, request.user)
