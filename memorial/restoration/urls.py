from django.urls import path

from memorial.restoration import views

app_name = "restoration"

urlpatterns = [
    path("m/<uuid:memorial_id>/photos/<uuid:photo_id>/restore/", views.restore, name="restore"),
]
