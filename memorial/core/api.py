"""API plumbing shared by every app.

* Access: `permit` and `memorial_for` ask `memorial.policy` and
  turn its answers into DRF's 404/403; no endpoint checks roles itself.
* One error shape: every 4xx is `{"detail": "<a sentence a person can read>"}`, with
  `errors` (per field) when a form was invalid.
* Strict input: unknown fields are refused rather than silently ignored, and the
  schema says so (`additionalProperties: false`).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import Http404, HttpRequest, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from memorial import policy
from memorial.accounts.tokens import HashedTokenAuthentication
from memorial.policy import Action

# Sentences for a refused action. They name the action, not a role, so they stay true
# whatever the policy table says.
DENIED: dict[Action, Any] = {
    Action.CHANGE_MEMORIAL: _("Your role in this memorial does not allow changing its details."),
    Action.DELETE_MEMORIAL: _("Your role in this memorial does not allow deleting it."),
    Action.MANAGE_MEMBERS: _("Your role in this memorial does not allow managing its members."),
    Action.UPLOAD_PHOTOS: _("Your role in this memorial does not allow adding photos."),
    Action.EDIT_PHOTO: _("Your role in this memorial does not allow editing photos."),
    Action.DELETE_PHOTO: _("You may not delete this photo."),
    Action.MANAGE_CONSENT: _("Your role in this memorial does not allow managing consent."),
    Action.START_GENERATION: _("Your role in this memorial does not allow starting generation."),
    Action.REVIEW_CONSENT: _("Only staff can review consent."),
    Action.WITHDRAW_CONSENT: _("Your role in this memorial does not allow withdrawing consent."),
    Action.ARCHIVE_MEMORIAL: _("Your role in this memorial does not allow archiving it."),
    Action.EXPORT_MEMORIAL: _("Your role in this memorial does not allow downloading it."),
}
NOT_FOUND = {
    "memorial": _("This memorial does not exist, or you do not have access to it."),
    "photo": _("This photo does not exist, or you do not have access to it."),
    "member": _("This person is not a member of the memorial."),
    "consent": _("This consent record does not exist, or you do not have access to it."),
}
IGNORED = {"csrfmiddlewaretoken"}  # sent by plain HTML forms; harmless
BIGGEST_ID = 2**63 - 1  # larger integers are not ids of anything, and break some databases


class ApiError(exceptions.APIException):
    """A refusal with its own status and extra fields, e.g. 409 with the `existing` photo."""

    def __init__(self, detail: Any, status_code: int = 400, **extra: Any) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.extra = extra


def permit(request: Any, action: Action, target: Any = None, *, thing: str = "memorial") -> None:
    """Ask the policy; answer 404 when the memorial is invisible to the user, else 403."""
    try:
        policy.require(request.user, action, target)
    except Http404:
        raise exceptions.NotFound(NOT_FOUND[thing]) from None
    except DjangoPermissionDenied:
        raise exceptions.PermissionDenied(
            policy.read_only_reason(action, target)
            or DENIED.get(action, exceptions.PermissionDenied.default_detail)
        ) from None


def memorial_for(request: Any, memorial_id: Any, action: Action):
    """The memorial, if it exists and the policy allows `action` on it."""
    from memorial.memorials.models import Memorial

    memorial = Memorial.objects.filter(pk=memorial_id).first()
    if memorial is None:
        raise exceptions.NotFound(NOT_FOUND["memorial"])
    permit(request, action, memorial)
    return memorial


def not_found_error(thing: str) -> exceptions.NotFound:
    return exceptions.NotFound(NOT_FOUND[thing])


def check_id(value: int, thing: str) -> int:
    if value > BIGGEST_ID:
        raise exceptions.NotFound(NOT_FOUND[thing])
    return value


# Refuse fields the endpoint does not know, and explain errors with field labels.
# (Comments, not docstrings: drf-spectacular would show a docstring in every schema.)
class StrictSerializerMixin:
    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(str(k) for k in data if k not in writable and k not in IGNORED)
            if unknown:
                raise serializers.ValidationError(
                    {
                        api_settings.NON_FIELD_ERRORS_KEY: [
                            gettext("Unknown or read-only field: %(fields)s. Allowed: %(allowed)s.")
                            % {
                                "fields": ", ".join(unknown[:5]),
                                "allowed": ", ".join(sorted(writable)) or "—",
                            }
                        ]
                    }
                )
        return super().to_internal_value(data)

    def is_valid(self, *, raise_exception: bool = False) -> bool:
        valid = super().is_valid(raise_exception=False)
        if not valid and raise_exception:
            error = serializers.ValidationError(self.errors)
            error.labels = {name: str(f.label or name) for name, f in self.fields.items()}
            raise error
        return valid


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    pass


def _first_text(value: Any) -> tuple[list[str], str]:
    """The first message in nested DRF errors, with the path of keys that led to it."""
    path: list[str] = []
    while True:
        if isinstance(value, dict) and value:
            key, value = next(iter(value.items()))
            path.append(str(key))
        elif isinstance(value, (list, tuple)) and value:
            value = value[0]
        else:
            return path, str(value)


def _summary(errors: Any, labels: dict[str, str]) -> str:
    path, text = _first_text(errors)
    if not path or path[0] in (api_settings.NON_FIELD_ERRORS_KEY, "detail"):
        return text
    label = labels.get(path[0], path[0].replace("_", " "))
    if label.lower() in text.lower():  # "Choose a photo to upload." needs no "Photo: "
        return text
    return f"{capfirst(label)}: {text}"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Give every API error a `detail` a person can read, plus field errors when there are some."""
    if isinstance(exc, RequestDataTooBig):
        exc = too_large()
    elif isinstance(exc, TooManyFieldsSent):
        exc = exceptions.ValidationError({"detail": gettext("The request has too many fields.")})
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ValidationError({"detail": gettext("The request could not be read.")})
    elif isinstance(exc, RecursionError):
        exc = exceptions.ParseError(gettext("The request body is nested too deeply to read."))
    elif isinstance(exc, exceptions.ParseError) and "JSON" in str(exc.detail):
        exc = exceptions.ParseError(
            gettext("The request body is not valid JSON (%(reason)s).")
            % {"reason": str(exc.detail).split(" - ", 1)[-1]}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        detail = _summary(data, getattr(exc, "labels", {}))
        if isinstance(data, dict) and set(data) == {"detail"}:
            response.data = {"detail": detail}
        else:
            response.data = {"detail": detail, "errors": data}
    elif isinstance(data, dict) and "detail" in data:
        response.data = {
            "detail": _first_text(data["detail"])[1],
            **{k: v for k, v in data.items() if k != "detail"},
        }
    else:
        response.data = {"detail": _summary(data, {}), "errors": data}
    response.data.update(getattr(exc, "extra", {}))
    return response


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Anything under /api/ that is not an endpoint: JSON, like every other API answer."""
    detail = gettext("There is no API endpoint at this address.")
    if not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            detail = gettext(
                "There is no API endpoint at this address; did you mean “%(path)s”?"
            ) % {"path": request.path + "/"}
    return JsonResponse({"detail": detail}, status=404)


def too_large() -> ApiError:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return ApiError(
        gettext("The request is larger than the limit of %(limit)s.")
        % {"limit": filesizeformat(limit)},
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


class JSONParser(parsers.JSONParser):
    """JSON bodies are small; refuse big ones (413) before reading them into memory."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        data = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(data) > limit:
            raise too_large()
        return super().parse(io.BytesIO(data), media_type, parser_context)


# --- Schema: errors documented the same way everywhere.


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, written for a person.")
    errors = serializers.DictField(
        required=False, help_text="Messages per field, when a form was invalid."
    )


class DuplicateSerializer(ErrorSerializer):
    existing = serializers.UUIDField(help_text="The photo that already holds these bytes.")


ERROR_TEXT = {
    400: "The request was not valid; `detail` says why.",
    401: "Not signed in, or the token is expired, revoked or unknown: send a session cookie "
    "or `Authorization: Token <key>`.",
    403: "Signed in, but the policy does not allow this action.",
    404: "No such object, or not visible to this user.",
    409: "Conflicts with the current state.",
    413: "The body or file is larger than the limit.",
    415: "Unsupported media type, or (uploads) not a picture Memorial can read.",
    429: "Too many requests; wait and try again.",
    503: "Storage is unavailable just now; nothing was stored; try again.",
}


BODY = (413, 415)  # any operation that reads a request body can answer these


def errors(*codes: int, duplicate: bool = False) -> dict[int, OpenApiResponse]:
    """Schema responses for the given error codes; `duplicate` documents 409 with `existing`."""
    return {
        code: OpenApiResponse(
            DuplicateSerializer if duplicate and code == 409 else ErrorSerializer,
            description=ERROR_TEXT[code],
        )
        for code in codes
    }


class MemorialAutoSchema(AutoSchema):
    """Say in the schema what the strict serializers enforce: no unknown fields."""

    def _postprocess_serializer_schema(self, schema, serializer, direction):
        schema = super()._postprocess_serializer_schema(schema, serializer, direction)
        if direction == "request" and isinstance(serializer, StrictSerializerMixin):
            schema["additionalProperties"] = False
        return schema


# Base of every endpoint: token first (so anonymous calls get 401), then the session.
class MemorialAPIView(APIView):
    authentication_classes = [HashedTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    schema = MemorialAutoSchema()
