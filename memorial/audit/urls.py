from django.urls import path

from memorial.audit import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.audit_list, name="list"),
    path("audit/export.csv", views.audit_csv, name="csv"),
]
