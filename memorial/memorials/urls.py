from django.urls import path

from memorial.memorials import caption_views, gentle_views, media, retire_views, views

app_name = "memorials"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("m/new/", views.memorial_create, name="create"),
    path("m/<uuid:memorial_id>/", views.gallery, name="gallery"),
    path("m/<uuid:memorial_id>/edit/", views.memorial_edit, name="edit"),
    path("m/<uuid:memorial_id>/upload/", views.upload, name="upload"),
    path("m/<uuid:memorial_id>/captions/", caption_views.caption_editor, name="captions"),
    path("m/<uuid:memorial_id>/members/", views.members, name="members"),
    path("m/<uuid:memorial_id>/viewing/", gentle_views.viewing_choice, name="viewing"),
    path("m/<uuid:memorial_id>/ai-features/", gentle_views.ai_features, name="ai-features"),
    path("about-ai/", gentle_views.about_ai, name="about-ai"),
    path("m/<uuid:memorial_id>/retire/", retire_views.retire_page, name="retire"),
    path("m/<uuid:memorial_id>/export/", retire_views.export_zip, name="export"),
    path("m/<uuid:memorial_id>/photos/<uuid:photo_id>/", views.photo_detail, name="photo"),
    path(
        "m/<uuid:memorial_id>/photos/<uuid:photo_id>/delete/",
        views.photo_delete,
        name="photo_delete",
    ),
    path("media/photos/<uuid:photo_id>/<str:variant>/", media.photo_file, name="media"),
]
