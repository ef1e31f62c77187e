"""DomainError: the base of every business-rule refusal, with its API code and HTTP status."""

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refused operation. `code` and `status` are what the API answers (DESIGN §6)."""

    code = "refused"
    status = 409
    default_detail: Any = _("The operation was refused.")

    def __init__(self, detail: Any = None, **data: Any) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.data = data
        super().__init__(str(self.detail))

    def __str__(self) -> str:
        return str(self.detail)

    def data_errors(self) -> dict[str, Any]:
        """Extra context for the API's `errors` member (JSON-safe values only)."""
        return {key: [str(value)] for key, value in self.data.items() if value is not None}


class NotAllowedForRole(DomainError):
    code = "not_allowed_for_role"
    status = 403
    default_detail = _("Your role may not perform this action.")


class SystemTransitionOnly(DomainError):
    code = "system_transition"
    status = 403
    default_detail = _("This transition is performed by the system only.")


class SelfApprovalNotAllowed(DomainError):
    code = "self_approval"
    status = 403
    default_detail = _("Nobody may approve their own reply (four-eyes principle).")


class StaleState(DomainError):
    code = "conflict"
    status = 409
    default_detail = _("Someone else changed this ticket in the meantime. Reload it and try again.")


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409
    default_detail = _("This transition is not possible in the current state.")


class GuardFailed(DomainError):
    code = "guard_failed"
    status = 409
    default_detail = _("The conditions for this transition are not met.")


class ReplyNotSent(GuardFailed):
    code = "reply_not_sent"
    default_detail = _("A reply of kind 'answer' must have been sent first.")


class InvalidArgument(DomainError):
    """Arguments that the serializer could not check (they need the database)."""

    code = "invalid"
    status = 400
    default_detail = _("Invalid input.")

    def __init__(self, detail: Any = None, *, field: str = "non_field_errors", **data: Any):
        super().__init__(detail, **data)
        self.field = field
