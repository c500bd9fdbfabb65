from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VideosConfig(AppConfig):
    """Talking portraits and latent-walk films: AI-generated videos of the person."""

    name = "memorial.videos"
    label = "videos"
    verbose_name = _("Videos")

    def ready(self) -> None:
        from memorial.provenance.checks import register_item_finder
        from memorial.videos import items, signals  # noqa: F401
        from memorial.videos.verify import find_video

        register_item_finder(find_video)
