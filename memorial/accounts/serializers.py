"""JSON shapes for signing in with a token and for invitations to a memorial."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from memorial.accounts.models import Invitation
from memorial.core.api import StrictSerializer, StrictSerializerMixin
from memorial.memorials.models import Role


class TokenRequestSerializer(StrictSerializer):
    email = serializers.CharField(max_length=254, label=_("e-mail address"))
    password = serializers.CharField(
        max_length=4096,
        trim_whitespace=False,
        label=_("password"),
        style={"input_type": "password"},
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


class InvitationSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=Role.choices, label=_("role"))
    url = serializers.SerializerMethodField(help_text="The link to send to the invited person.")
    is_usable = serializers.BooleanField(read_only=True)
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "url",
            "is_usable",
            "created_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = ["id", "created_at", "expires_at", "accepted_at", "revoked_at"]

    def get_url(self, invitation: Invitation) -> str:
        return settings.SITE_URL + invitation.get_absolute_url()

    def get_created_by(self, invitation: Invitation) -> str | None:
        return invitation.created_by.get_full_name() if invitation.created_by else None
