"""The JSON API under /api/. Every endpoint is listed here, in one place.

Schema at /api/schema/, Swagger UI (served from this app's static files, no CDN) at
/api/docs/. Anything else under /api/ answers a JSON 404.
"""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from memorial.accounts.api import InvitationListView, TokenView
from memorial.consent.api import ConsentListView, ConsentWithdrawView
from memorial.core.api import not_found
from memorial.memorials.api import (
    MemberDetailView,
    MemberListView,
    MemorialDetailView,
    MemorialListView,
    PhotoDetailView,
    PhotoListView,
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("memorials/", MemorialListView.as_view(), name="api-memorials"),
    path("memorials/<uuid:memorial_id>/", MemorialDetailView.as_view(), name="api-memorial"),
    path("memorials/<uuid:memorial_id>/members/", MemberListView.as_view(), name="api-members"),
    path(
        "memorials/<uuid:memorial_id>/members/<int:user_id>/",
        MemberDetailView.as_view(),
        name="api-member",
    ),
    path(
        "memorials/<uuid:memorial_id>/invitations/",
        InvitationListView.as_view(),
        name="api-invitations",
    ),
    path("memorials/<uuid:memorial_id>/photos/", PhotoListView.as_view(), name="api-photos"),
    path("memorials/<uuid:memorial_id>/consent/", ConsentListView.as_view(), name="api-consent"),
    path("photos/<uuid:photo_id>/", PhotoDetailView.as_view(), name="api-photo"),
    path(
        "consent/<uuid:record_id>/withdraw/",
        ConsentWithdrawView.as_view(),
        name="api-consent-withdraw",
    ),
    re_path(r"^.*$", not_found, name="api-not-found"),
]
