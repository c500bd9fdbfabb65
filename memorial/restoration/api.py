"""``POST /api/photos/<id>/restore/``: start restoring a photo, with the page's rules
(memorial.policy ``RESTORE_PHOTO``, the family's feature switch, the size limit, one job per
photo) and the page's words when refused."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from memorial import policy
from memorial.core.api import BODY, ApiError, JSONParser, MemorialAPIView, errors
from memorial.jobs.serializers import JobSerializer
from memorial.jobs.services import Refused
from memorial.memorials.models import Photo
from memorial.policy import Action
from memorial.restoration import hints, services
from memorial.restoration.serializers import RestoreRequestSerializer

NO_PHOTO = _("This photo does not exist, or you do not have access to it.")
DENIED = _("Your role in this memorial does not allow restoring photos.")


class RestoreView(MemorialAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        tags=["photos"],
        summary="Restore a photo: repair, colour, enlarge (an AI-restored copy beside the original)",
        description="Starts a restoring job on the family's own photo; the original stays as it "
        "was. Answers 201 with the new job, or 200 with the job that is already restoring this "
        "photo (one at a time). Refused with 403 and the reason when the family switched photo "
        "restoration off or the memorial is read-only; with 400 and the reason for an AI-made "
        "photo, nothing to do, colour points outside the photo or more than 20, or a result "
        "larger than the upload limit. The job's "
        "`result.photo` names the restored photo when it is done.",
        request=RestoreRequestSerializer,
        responses={
            201: JobSerializer,
            200: OpenApiResponse(JobSerializer, description="Already being restored: that job."),
            **errors(400, 401, 403, 404, *BODY),
        },
    )
    def post(self, request: Request, photo_id) -> Response:
        photo = Photo.objects.select_related("memorial").filter(pk=photo_id, hidden=False).first()
        if photo is None or not policy.allows(request.user, Action.VIEW_PHOTOS, photo):
            raise exceptions.NotFound(NO_PHOTO)
        if not policy.allows(request.user, Action.RESTORE_PHOTO, photo):
            raise exceptions.PermissionDenied(
                policy.read_only_reason(Action.RESTORE_PHOTO, photo) or DENIED
            )
        form = RestoreRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            points = hints.parse(data["hints"], photo.width, photo.height)
        except ValidationError as invalid:
            raise ApiError(invalid.messages[0], 400) from None
        try:
            job, created = services.start_restore(
                photo,
                request.user,
                repair=data["repair"],
                colourise=data["colourise"],
                enlarge=int(data["enlarge"]),
                fidelity=data["fidelity"] / 100,
                hints=points if data["colourise"] else [],
            )
        except Refused as refused:
            raise ApiError(refused.message, refused.status) from None
        return Response(
            JobSerializer(job).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
