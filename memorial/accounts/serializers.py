"""JSON shapes for signing in with a token and for invitations to a memorial."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from memorial.accounts import tokens
from memorial.accounts.models import ApiToken, Invitation
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
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        label=_("code from your authenticator app"),
        help_text="Needed when the account uses two-factor sign-in.",
    )
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        label=_("name"),
        help_text="What the token is for, to recognise it in the list.",
    )
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        label=_("days"),
        help_text="Days until the token expires; by default MEMORIAL_API_TOKEN_DAYS (30), "
        "at most MEMORIAL_API_TOKEN_MAX_DAYS (365).",
    )

    def validate_days(self, days: int) -> int:
        if days > tokens.max_days():
            raise serializers.ValidationError(
                _("A token can be valid for at most %(days)s days.") % {"days": tokens.max_days()}
            )
        return days

    def validate_code(self, code: str) -> str:
        return "".join(code.split())


class ApiTokenSerializer(serializers.ModelSerializer):
    is_usable = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "is_usable",
        ]
        read_only_fields = fields
        extra_kwargs = {"prefix": {"help_text": "The token's first characters, to recognise it."}}


class TokenSerializer(ApiTokenSerializer):
    token = serializers.SerializerMethodField(
        help_text="Send as `Authorization: Token <token>`. Shown only now: keep it safe."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]
        read_only_fields = fields

    def get_token(self, token: ApiToken) -> str:
        return self.context["key"]


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
