"""The JSON API under /api/. Every endpoint is listed here, in one place.

Schema at /api/schema/, Swagger UI (served from this app's static files, no CDN) at
/api/docs/. Anything else under /api/ answers a JSON 404.
"""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from memorial.accounts.api import (
    InvitationListView,
    TokenDetailView,
    TokenListView,
    TokenView,
)
from memorial.consent.api import ConsentListView, ConsentWithdrawView
from memorial.core.api import not_found
from memorial.jobs.api import (
    JobCancelView,
    JobDetailView,
    JobListView,
    JobRetryView,
    ModelContinueView,
)
from memorial.memorials.api import (
    MemberDetailView,
    MemberListView,
    MemorialDetailView,
    MemorialListView,
    PhotoDetailView,
    PhotoListView,
    ViewingView,
)
from memorial.memorials.retire_api import (
    MemorialArchiveView,
    MemorialExportView,
    MemorialRestoreView,
)
from memorial.moderation.api import ConsentReviewView, PendingConsentView
from memorial.restoration.api import RestoreView
from memorial.videos.api import (
    FilmView,
    LiveView,
    RecordingDetailView,
    RecordingListView,
    SpeakView,
    VideoDetailView,
    VideoListView,
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view loads its start-up script from a URL, so the Content-Security-Policy
    # needs no inline scripts; Swagger UI's page keeps one inline <style>.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/tokens/", TokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<int:token_id>/", TokenDetailView.as_view(), name="api-token-detail"),
    path("memorials/", MemorialListView.as_view(), name="api-memorials"),
    path("memorials/<uuid:memorial_id>/", MemorialDetailView.as_view(), name="api-memorial"),
    path(
        "memorials/<uuid:memorial_id>/archive/",
        MemorialArchiveView.as_view(),
        name="api-memorial-archive",
    ),
    path(
        "memorials/<uuid:memorial_id>/restore/",
        MemorialRestoreView.as_view(),
        name="api-memorial-restore",
    ),
    path(
        "memorials/<uuid:memorial_id>/export/",
        MemorialExportView.as_view(),
        name="api-memorial-export",
    ),
    path("memorials/<uuid:memorial_id>/viewing/", ViewingView.as_view(), name="api-viewing"),
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
    path("consent/pending/", PendingConsentView.as_view(), name="api-consent-pending"),
    path(
        "consent/<uuid:record_id>/review/",
        ConsentReviewView.as_view(),
        name="api-consent-review",
    ),
    path(
        "consent/<uuid:record_id>/withdraw/",
        ConsentWithdrawView.as_view(),
        name="api-consent-withdraw",
    ),
    path("memorials/<uuid:memorial_id>/jobs/", JobListView.as_view(), name="api-jobs"),
    path("jobs/<uuid:job_id>/", JobDetailView.as_view(), name="api-job"),
    path("jobs/<uuid:job_id>/cancel/", JobCancelView.as_view(), name="api-job-cancel"),
    path("jobs/<uuid:job_id>/retry/", JobRetryView.as_view(), name="api-job-retry"),
    path("memorials/<uuid:memorial_id>/videos/", VideoListView.as_view(), name="api-videos"),
    path("videos/<uuid:video_id>/", VideoDetailView.as_view(), name="api-video"),
    path(
        "memorials/<uuid:memorial_id>/recordings/",
        RecordingListView.as_view(),
        name="api-recordings",
    ),
    path("recordings/<uuid:recording_id>/", RecordingDetailView.as_view(), name="api-recording"),
    path("photos/<uuid:photo_id>/speak/", SpeakView.as_view(), name="api-photo-speak"),
    path("photos/<uuid:photo_id>/live/", LiveView.as_view(), name="api-photo-live"),
    path("photos/<uuid:photo_id>/restore/", RestoreView.as_view(), name="api-photo-restore"),
    path("models/<uuid:model_id>/film/", FilmView.as_view(), name="api-model-film"),
    path(
        "models/<uuid:model_id>/continue/", ModelContinueView.as_view(), name="api-model-continue"
    ),
    re_path(r"^.*$", not_found, name="api-not-found"),
]
