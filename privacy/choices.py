from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ErasureStatus(models.TextChoices):
    REQUESTED = "requested", _("waiting for confirmation")
    RUNNING = "running", pgettext_lazy("erasure", "running")
    DONE = "done", pgettext_lazy("erasure", "done")
    CANCELLED = "cancelled", pgettext_lazy("erasure", "cancelled")


OPEN_ERASURE_STATUSES = (ErasureStatus.REQUESTED, ErasureStatus.RUNNING)


class AccessKind(models.TextChoices):
    CUSTOMER_PAGE = "customer_page", _("customer page")
    TICKET_PAGE = "ticket_page", _("ticket page")
    EXPORT = "export", _("data export")
    SEARCH = "search", _("search result")
    API_CUSTOMER = "api_customer", _("customer via API")


class RetentionKind(models.TextChoices):
    CLOSED_TICKETS = "closed_tickets", _("personal data of resolved or unsolvable tickets")
    DISMISSED_SPAM = "dismissed_spam", _("dismissed spam")
    ACCESS_AUDIT = "access_audit", _("access audit entries")
