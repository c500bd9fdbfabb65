from django.urls import path

from memorial.consent import views

app_name = "consent"

urlpatterns = [
    path("m/<uuid:memorial_id>/consent/", views.consent_list, name="list"),
    path(
        "m/<uuid:memorial_id>/consent/<uuid:record_id>/withdraw/",
        views.consent_withdraw,
        name="withdraw",
    ),
    path(
        "m/<uuid:memorial_id>/consent/withdrawals/<uuid:withdrawal_id>/",
        views.withdrawal_result,
        name="withdrawal",
    ),
    path("media/consent/<uuid:record_id>/evidence/", views.evidence_file, name="evidence"),
]
