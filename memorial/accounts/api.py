"""JSON endpoints for API tokens (get, list, revoke) and for inviting people to a memorial."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from memorial.accounts import tokens
from memorial.accounts.invitations import send_invitation
from memorial.accounts.serializers import (
    ApiTokenSerializer,
    InvitationSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from memorial.accounts.two_factor import code_matches, has_device, needs_setup
from memorial.core.api import (
    BIGGEST_ID,
    BODY,
    ApiError,
    JSONParser,
    MemorialAPIView,
    errors,
    memorial_for,
)
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


def _second_factor(user, code: str) -> bool:
    """Whether the token is made with a second factor; refuse when one is owed and missing."""
    if needs_setup(user):
        raise ApiError(tokens.setup_required_message(), status.HTTP_403_FORBIDDEN)
    if not has_device(user):
        return False
    if not code:
        raise ApiError(
            gettext(
                "This account uses two-factor sign-in: send the code from your authenticator "
                "app as “code”, with the e-mail address and password."
            ),
            400,
        )
    if not code_matches(user, code):
        raise ApiError(
            gettext("The code from the authenticator app is not correct, or it has expired."), 400
        )
    return True


@extend_schema(tags=["auth"])
class TokenView(MemorialAPIView):
    """Exchange an e-mail address and password (and a code, with two-factor sign-in) for a new
    API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        summary="Get a new API token",
        description="Each call makes a new token, shown only in this answer; it expires after "
        "`days`. Accounts with two-factor sign-in also send `code`; staff who must set it up "
        "first get 403.",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **errors(400, 403, 429, *BODY)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        user = authenticate(request._request, username=data["email"], password=data["password"])
        if getattr(request._request, "axes_locked_out", False):
            # Answer in JSON here; left set, django-axes would replace this with an HTML page.
            request._request.axes_locked_out = False
            raise ApiError(
                gettext("Too many failed sign-in attempts. Please wait a while and try again."),
                status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if user is None:
            raise ApiError(gettext("The e-mail address or password is not correct."), 400)
        two_factor = _second_factor(user, data.get("code", ""))
        issued = tokens.issue(
            user, name=data.get("name", ""), days=data.get("days"), two_factor=two_factor
        )
        response = Response(TokenSerializer(issued.token, context={"key": issued.key}).data)
        add_never_cache_headers(response)  # the token is in this answer, and nowhere else
        return response


@extend_schema(tags=["auth"])
class TokenListView(MemorialAPIView):
    @extend_schema(
        summary="Your API tokens, newest first",
        description="Only each token's first characters: the tokens themselves are not kept.",
        responses={200: ApiTokenSerializer(many=True), **errors(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(ApiTokenSerializer(request.user.api_tokens.all(), many=True).data)


@extend_schema(tags=["auth"])
class TokenDetailView(MemorialAPIView):
    @extend_schema(
        summary="Revoke one of your API tokens",
        description="It stops working at once (the token this call uses included).",
        request=None,
        responses={204: OpenApiResponse(description="Revoked."), **errors(401, 404)},
    )
    def delete(self, request: Request, token_id: int) -> Response:
        mine = request.user.api_tokens
        token = mine.filter(pk=token_id).first() if token_id <= BIGGEST_ID else None
        if token is None:
            raise exceptions.NotFound(gettext("You have no API token with this number."))
        tokens.revoke(token)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
