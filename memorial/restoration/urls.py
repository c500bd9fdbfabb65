from django.urls import path

from memorial.restoration import selection_views, views

app_name = "restoration"

urlpatterns = [
    path(
        "m/<uuid:memorial_id>/photos/restore/",
        selection_views.restore_selected,
        name="restore-selected",
    ),
    path("m/<uuid:memorial_id>/photos/<uuid:photo_id>/restore/", views.restore, name="restore"),
]
