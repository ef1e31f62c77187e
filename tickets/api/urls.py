"""URLs of the tickets API under /api/v1/."""

from rest_framework.routers import SimpleRouter

from tickets.api.incidents import IncidentViewSet
from tickets.api.knowledge import ArticleViewSet
from tickets.api.mentions import MentionViewSet
from tickets.api.views import NotificationViewSet, ReplyViewSet, TicketViewSet

router = SimpleRouter()
router.register("mentions", MentionViewSet, basename="mention")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("replies", ReplyViewSet, basename="reply")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("articles", ArticleViewSet, basename="article")
router.register("incidents", IncidentViewSet, basename="incident")

urlpatterns = router.urls
