"""URLs of the monitoring API under /api/v1/."""

from rest_framework.routers import SimpleRouter

from monitoring.api.views import ChannelViewSet

router = SimpleRouter()
router.register("channels", ChannelViewSet, basename="channel")

urlpatterns = router.urls
