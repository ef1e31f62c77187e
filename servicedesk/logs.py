"""Logging filters: outgoing HTTP requests are logged without their query strings.

httpx logs every request at INFO ("HTTP Request: GET https://…?access_token=… 200 OK"), and
some platforms take their token in the query (Facebook's Graph API). The filter, set on the
httpx and httpcore loggers in settings.LOGGING, keeps the line and drops what follows `?`.
"""

import logging
import re

# A URL's query (and fragment): from "?" up to whitespace or a closing quote.
QUERY = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#\"'<>]*)[?#][^\s\"'<>]*")


def without_query_strings(text: str) -> str:
    return QUERY.sub(r"\1?…", text)


class WithoutQueryStrings(logging.Filter):
    """Rewrites the record's message with every URL's query string replaced by "?…"."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = without_query_strings(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
