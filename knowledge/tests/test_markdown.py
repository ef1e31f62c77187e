"""Article bodies are Markdown rendered safely: no script, no javascript: links, no raw HTML,
and the formatting an article needs survives (pure: no database)."""

import pytest

from knowledge.markdown import passages, plain_text, render_markdown


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "Hallo <script>alert(1)</script> Welt",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">klick</a>',
        "<iframe src='https://evil.example'></iframe>",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_raw_html_is_shown_as_text_never_as_markup(text: str) -> None:
    html = render_markdown(text)

    assert "<script" not in html
    assert "<img" not in html
    assert "<iframe" not in html
    assert "<div" not in html
    assert "&lt;" in html


@pytest.mark.parametrize(
    "link",
    [
        "[klick](javascript:alert(1))",
        "[klick](JaVaScRiPt:alert(1))",
        "[klick](  javascript:alert(1)  )",
        "[klick](javascript&#58;alert(1))",
        "[klick](&#106;avascript:alert(1))",
        "[klick](vbscript:msgbox(1))",
        "[klick](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<javascript:alert(1)>",
        "[klick][ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_no_javascript_or_data_link_survives(link: str) -> None:
    html = render_markdown(link).lower()

    assert 'href="javascript' not in html
    assert 'href="vbscript' not in html
    assert 'href="data:' not in html
    assert "<a " not in html or 'href="http' in html


def test_safe_links_stay_and_are_marked_noopener() -> None:
    html = render_markdown(
        "[Hilfe](https://paketblitz.example/hilfe) · [Mail](mailto:hilfe@paketblitz.example)"
        " · [intern](/knowledge/3/)"
    )

    assert '<a href="https://paketblitz.example/hilfe" rel="noopener noreferrer nofollow">' in html
    assert 'href="mailto:hilfe@paketblitz.example"' in html
    assert 'href="/knowledge/3/"' in html


def test_formatting_an_article_needs_is_kept_and_images_are_not_loaded() -> None:
    html = render_markdown(
        "## Schritte\n\n1. **Sendungsnummer** prüfen\n2. *Drei* Werktage warten\n\n"
        "> Zitat\n\n`Code` ![Logo](https://tracker.example/pixel.png)"
    )

    for tag in ("<h2>", "<ol>", "<li>", "<strong>", "<em>", "<blockquote>", "<code>"):
        assert tag in html
    assert "<img" not in html


def test_plain_text_is_one_block_per_paragraph_without_markup() -> None:
    text = plain_text(
        "# Titel\n\nErster **Absatz** mit [Link](https://x.example).\n\n- eins\n- zwei"
    )

    assert passages(text) == ["Titel", "Erster Absatz mit Link.", "eins", "zwei"]
