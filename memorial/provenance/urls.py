from django.urls import path

from memorial.provenance import views

app_name = "provenance"

urlpatterns = [path("verify/", views.verify_file, name="verify")]
