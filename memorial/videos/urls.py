from django.urls import path

from memorial.videos import media, views

app_name = "videos"

urlpatterns = [
    path("m/<uuid:memorial_id>/photos/<uuid:photo_id>/speak/", views.speak, name="speak"),
    path("m/<uuid:memorial_id>/models/<uuid:model_id>/film/", views.film, name="film"),
    path("m/<uuid:memorial_id>/videos/", views.video_list, name="list"),
    path("m/<uuid:memorial_id>/videos/<uuid:video_id>/", views.video_detail, name="detail"),
    path(
        "m/<uuid:memorial_id>/recordings/<uuid:recording_id>/delete/",
        views.recording_delete,
        name="recording-delete",
    ),
    path("media/videos/<uuid:video_id>/file/", media.video_file, name="file"),
    path("media/videos/<uuid:video_id>/poster/", media.video_poster, name="poster"),
]
