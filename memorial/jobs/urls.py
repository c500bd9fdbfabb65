from django.urls import path

from memorial.jobs import metrics_view, monitor_views, views

app_name = "jobs"

urlpatterns = [
    path("m/<uuid:memorial_id>/jobs/", views.job_list, name="list"),
    path("m/<uuid:memorial_id>/train/", views.train, name="train"),
    path("m/<uuid:memorial_id>/jobs/<uuid:job_id>/", views.job_detail, name="detail"),
    path("m/<uuid:memorial_id>/jobs/<uuid:job_id>/cancel/", views.job_cancel, name="cancel"),
    path("m/<uuid:memorial_id>/jobs/<uuid:job_id>/retry/", views.job_retry, name="retry"),
    path("m/<uuid:memorial_id>/models/<uuid:model_id>/", views.model_detail, name="model"),
    path(
        "m/<uuid:memorial_id>/models/<uuid:model_id>/continue/",
        views.model_continue,
        name="continue",
    ),
    path("media/jobs/<uuid:job_id>/sample/", views.job_sample, name="sample"),
    path(
        "m/<uuid:memorial_id>/models/<uuid:model_id>/evaluation/<slug:role>.png",
        views.evaluation_picture,
        name="evaluation_picture",
    ),
    path("metrics", metrics_view.metrics_page, name="metrics"),
    path("staff/queues/", monitor_views.queue_monitor, name="monitor"),
]
