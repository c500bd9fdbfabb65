from django.urls import path

from memorial.moderation import views

app_name = "moderation"

urlpatterns = [
    path("takedown/", views.takedown_form, name="takedown"),
    path("takedown/received/", views.takedown_received, name="takedown_received"),
    path("takedown/appeal/<str:token>/", views.takedown_appeal, name="takedown_appeal"),
    path("moderation/consent/", views.consent_queue, name="consent_queue"),
    path(
        "moderation/consent/<uuid:record_id>/review/",
        views.consent_review,
        name="consent_review",
    ),
    path("moderation/takedowns/", views.takedown_list, name="takedown_list"),
    path(
        "moderation/takedowns/<uuid:takedown_id>/",
        views.takedown_detail,
        name="takedown_detail",
    ),
]
