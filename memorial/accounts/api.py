"""JSON endpoints for API tokens and for inviting people to a memorial."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from memorial.accounts.invitations import send_invitation
from memorial.accounts.serializers import (
    InvitationSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from memorial.core.api import BODY, ApiError, JSONParser, MemorialAPIView, errors, memorial_for
from memorial.policy import Action


class TokenThrottle(SimpleRateThrottle):
    """A coarse per-address backstop; django-axes locks an account after repeated failures."""

    scope = "auth-token"

    def get_rate(self) -> str:
        return settings.MEMORIAL_API_TOKEN_RATE

    def get_ident(self, request: Request) -> str:
        # Not X-Forwarded-For, which any client can send: behind a proxy, daphne's
        # --proxy-headers puts the real client address into REMOTE_ADDR.
        return request.META.get("REMOTE_ADDR", "")

    def get_cache_key(self, request: Request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


@extend_schema(tags=["auth"])
class TokenView(MemorialAPIView):
    """Exchange an e-mail address and password for an API token (the same token each time)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        summary="Get an API token",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **errors(400, 429, *BODY)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=form.validated_data["email"],
            password=form.validated_data["password"],
        )
        if getattr(request._request, "axes_locked_out", False):
            # Answer in JSON here; left set, django-axes would replace this with an HTML page.
            request._request.axes_locked_out = False
            raise ApiError(
                gettext("Too many failed sign-in attempts. Please wait a while and try again."),
                status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if user is None:
            raise ApiError(gettext("The e-mail address or password is not correct."), 400)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


@extend_schema(tags=["members"])
class InvitationListView(MemorialAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Invitations to a memorial, newest first",
        responses={200: InvitationSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.MANAGE_MEMBERS)
        invitations = memorial.invitations.select_related("created_by").order_by(
            "-created_at", "-pk"
        )
        return Response(InvitationSerializer(invitations, many=True).data)

    @extend_schema(
        summary="Invite someone by link",
        description="Returns the invitation with its `url`, to send to the person.",
        request=InvitationSerializer,
        responses={201: InvitationSerializer, **errors(400, 401, 403, 404, *BODY)},
    )
    def post(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.MANAGE_MEMBERS)
        form = InvitationSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        invitation = form.save(memorial=memorial, created_by=request.user)
        if invitation.email:
            send_invitation(
                invitation, request.user, settings.SITE_URL + invitation.get_absolute_url()
            )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)
