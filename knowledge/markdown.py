"""Article bodies are Markdown, rendered safely (pure: no database).

Two layers, so that one mistake is not enough: markdown-it-py renders CommonMark with raw
HTML switched off (`<script>` stays visible text) and refuses `javascript:`, `vbscript:`,
`file:` and `data:` links itself; then nh3 (the Ammonia sanitiser) keeps only an allow-list
of tags and attributes and only http, https and mailto URLs (relative links stay), and marks
every link `rel="noopener noreferrer nofollow"`. Images are not rendered (an article must not
load anything from elsewhere).
"""

import html
import re
from functools import cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "code", "pre", "blockquote",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a",
        "table", "thead", "tbody", "tr", "th", "td", "del",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
PARAGRAPH_BREAK = "\n\n"


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")


def sanitise(markup: str) -> str:
    """HTML reduced to the allow-list (tags, attributes, URL schemes)."""
    return nh3.clean(
        markup,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(text: str) -> SafeString:
    """The article body as safe HTML."""
    # Rendered with raw HTML off and sanitised by nh3 right here: safe to mark as such.
    return mark_safe(sanitise(_parser().render(text or "")))


BLOCK_END = re.compile(r"</(p|li|h[1-6]|blockquote|pre|tr|table|ul|ol)>", re.IGNORECASE)


def plain_text(text: str) -> str:
    """The article body as plain text, one paragraph (or list item, heading) per block,
    blocks separated by blank lines: what the search indexes and what a quote inserts."""
    markup = BLOCK_END.sub(lambda match: match.group(0) + PARAGRAPH_BREAK, render_markdown(text))
    stripped = html.unescape(nh3.clean(markup, tags=set()))
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", stripped)]
    return PARAGRAPH_BREAK.join(block for block in blocks if block)


def passages(text: str) -> list[str]:
    """The paragraphs of a plain text (as `plain_text` separates them)."""
    return [block for block in text.split(PARAGRAPH_BREAK) if block.strip()]
