"""API shapes of jobs: what is read comes from the ledger (see progress.message)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from memorial.core.api import StrictSerializerMixin
from memorial.jobs.models import Job, Kind, State
from memorial.jobs.presets import AUTO, BUDGETS, MAX_GENERATE, PRESETS


class JobSerializer(serializers.ModelSerializer):
    sample_url = serializers.SerializerMethodField()
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    requested_by = serializers.CharField(source="requested_by.email", read_only=True, default=None)
    # Written by workers in English with a code; shown in the reader's language (texts.py).
    message = serializers.CharField(source="shown_message", read_only=True)
    error = serializers.CharField(source="shown_error", read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "memorial",
            "requested_by",
            "parameters",
            "state",
            "state_label",
            "step",
            "total",
            "percent",
            "eta_seconds",
            "losses",
            "images_per_second",
            "message",
            "error",
            "queue",
            "worker",
            "attempts",
            "checkpoint_step",
            "resumed_from",
            "result",
            "cancel_requested",
            "sample_url",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
        ]
        read_only_fields = fields

    def get_sample_url(self, job: Job) -> str:
        return job.sample_url()


class JobCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=[Kind.TRAIN.value, Kind.GENERATE.value], label=_("kind"))
    preset = serializers.ChoiceField(
        choices=list(PRESETS), required=False, default="quick", label=_("quality")
    )
    time_budget_minutes = serializers.ChoiceField(
        choices=list(BUDGETS), required=False, default=60, label=_("time budget")
    )
    prior = serializers.CharField(
        required=False,
        allow_blank=True,
        default=AUTO,
        max_length=200,
        label=_("prior"),
        help_text=_(
            "“auto” (the default): the face prior made for this quality, where one is installed; "
            "“none” or empty: learn from the photos alone; or an installed prior's name."
        ),
    )
    model_version = serializers.UUIDField(required=False, label=_("model"))
    caption = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    count = serializers.IntegerField(required=False, min_value=1, max_value=MAX_GENERATE, default=4)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1, default=0)
    confirm_unlearned = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Generate with a model whose evaluation says it has not learned the face yet "
        "(otherwise refused with 400 and the reason).",
    )

    def validate(self, data):
        if data["kind"] == Kind.GENERATE and not data.get("model_version"):
            raise serializers.ValidationError(
                {"model_version": [_("Choose the trained model to generate with.")]}
            )
        return data


class ContinueSerializer(StrictSerializerMixin, serializers.Serializer):
    """More time for a trained model: "Continue training" over the API."""

    time_budget_minutes = serializers.ChoiceField(
        choices=list(BUDGETS), required=False, default=60, label=_("time budget")
    )


STATES = [s.value for s in State]
