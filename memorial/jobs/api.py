"""JSON endpoints for jobs: list, create, retrieve, cancel, retry. Access: memorial.policy only;
starting a job also passes the consent gate (refused with its reason)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from memorial import policy
from memorial.core.api import BODY, ApiError, JSONParser, MemorialAPIView, errors, memorial_for
from memorial.jobs import services
from memorial.jobs.models import Job, Kind, ModelVersion
from memorial.jobs.serializers import ContinueSerializer, JobCreateSerializer, JobSerializer
from memorial.memorials.api import MemorialPagination
from memorial.policy import Action

NO_JOB = _("This job does not exist, or you do not have access to it.")
NO_MODEL = _("This trained model does not exist, or you do not have access to it.")
DENIED = {
    Action.CANCEL_JOB: _("Your role in this memorial does not allow cancelling jobs."),
    Action.START_GENERATION: _("Your role in this memorial does not allow starting generation."),
}


def job_for(request: Request, job_id, action: Action) -> Job:
    job = Job.objects.select_related("memorial").filter(pk=job_id).first()
    if job is None or not policy.can_see(request.user, job.memorial):
        raise exceptions.NotFound(NO_JOB)
    if not policy.allows(request.user, action, job):
        raise exceptions.PermissionDenied(DENIED.get(action))
    return job


def _refused(refused: services.Refused) -> ApiError:
    return ApiError(refused.message, refused.status)


@extend_schema(tags=["jobs"])
class JobListView(MemorialAPIView, GenericAPIView):
    serializer_class = JobSerializer
    pagination_class = MemorialPagination
    parser_classes = [JSONParser]

    @extend_schema(
        summary="The memorial's jobs, newest first",
        responses={200: JobSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.VIEW_JOBS)
        page = self.paginate_queryset(
            memorial.jobs.select_related("requested_by").order_by("-created_at", "pk")
        )
        return self.get_paginated_response(JobSerializer(page, many=True).data)

    @extend_schema(
        summary="Start training (after photo preparation) or generation",
        description="Refused with 403 and the consent gate's reason when the memorial's consent "
        "does not cover training (train) or generated photos (generate). Generating with a model "
        "whose evaluation says it has not learned the face is refused with 400 and the reason "
        "unless `confirm_unlearned` is true.",
        request=JobCreateSerializer,
        responses={201: JobSerializer, **errors(400, 401, 403, 404, 409, *BODY)},
    )
    def post(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.START_GENERATION)
        serializer = JobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if data["kind"] == Kind.TRAIN:
                job = services.start_training(
                    memorial,
                    request.user,
                    data["preset"],
                    data["time_budget_minutes"],
                    prior=data["prior"],
                )
            else:
                model = ModelVersion.objects.filter(
                    pk=data["model_version"], memorial=memorial
                ).first()
                if model is None:
                    raise exceptions.NotFound(NO_MODEL)
                job = services.start_generation(
                    model,
                    request.user,
                    data["caption"],
                    data["count"],
                    data["seed"],
                    confirm_unlearned=data["confirm_unlearned"],
                )
        except services.Refused as refused:
            raise _refused(refused) from None
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["jobs"])
class JobDetailView(MemorialAPIView):
    @extend_schema(
        summary="One job, as the ledger has it", responses={200: JobSerializer, **errors(401, 404)}
    )
    def get(self, request: Request, job_id) -> Response:
        return Response(JobSerializer(job_for(request, job_id, Action.VIEW_JOBS)).data)


@extend_schema(tags=["jobs"])
class JobCancelView(MemorialAPIView):
    @extend_schema(
        summary="Cancel a job",
        description="A queued job never starts; a running one stops at its next step and keeps its "
        "last checkpoint. Cancelling a finished job changes nothing.",
        request=None,
        responses={200: JobSerializer, **errors(401, 403, 404)},
    )
    def post(self, request: Request, job_id) -> Response:
        job = services.cancel(job_for(request, job_id, Action.CANCEL_JOB), request.user)
        return Response(JobSerializer(job).data)


@extend_schema(tags=["jobs"])
class JobRetryView(MemorialAPIView):
    @extend_schema(
        summary="Retry a failed or cancelled job (training continues from its last checkpoint)",
        request=None,
        responses={200: JobSerializer, **errors(401, 403, 404, 409)},
    )
    def post(self, request: Request, job_id) -> Response:
        job = job_for(request, job_id, Action.START_GENERATION)
        try:
            job = services.retry(job, request.user)
        except services.Refused as refused:
            raise _refused(refused) from None
        return Response(JobSerializer(job).data)


@extend_schema(tags=["jobs"])
class ModelContinueView(MemorialAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Continue training a model from its checkpoint with a new time budget",
        description="Queues a new training job that resumes exactly from the model's checkpoint on "
        "the photos it learned from; the model itself is left as it is. Refused with 403 and the "
        "consent gate's reason when consent does not cover training.",
        request=ContinueSerializer,
        responses={201: JobSerializer, **errors(400, 401, 403, 404, 409, *BODY)},
    )
    def post(self, request: Request, model_id) -> Response:
        model = ModelVersion.objects.select_related("memorial", "job").filter(pk=model_id).first()
        if model is None or not policy.can_see(request.user, model.memorial):
            raise exceptions.NotFound(NO_MODEL)
        if not policy.allows(request.user, Action.START_GENERATION, model):
            raise exceptions.PermissionDenied(DENIED[Action.START_GENERATION])
        form = ContinueSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            job = services.continue_training(
                model, request.user, form.validated_data["time_budget_minutes"]
            )
        except services.Refused as refused:
            raise _refused(refused) from None
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)
