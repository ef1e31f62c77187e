"""URLs of the monitoring API under /api/v1/."""

from rest_framework.routers import SimpleRouter

from monitoring.api.views import ChannelViewSet, MentionViewSet

router = SimpleRouter()
router.register("mentions", MentionViewSet, basename="mention")
router.register("channels", ChannelViewSet, basename="channel")

urlpatterns = router.urls
