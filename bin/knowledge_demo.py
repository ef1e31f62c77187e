"""The information centre tried as a new user would, in Debian's Chromium, against a running
demo desk (`./desk run`): anton searches (once for something nobody wrote down), opens the
lost-parcel ticket from his queue, sees the parcel article and the past answer offered,
inserts the article's passage and sends the reply for approval; olga approves it, the worker
delivers it, anton resolves the case; tina sees the article's use and the search gap on the
dashboard. Screenshots go to artifacts/screenshots/knowledge_demo_*.png.

    .venv/bin/python bin/knowledge_demo.py [--url http://127.0.0.1:8105]

Uses the demo logins of tickets/demo.py; run it on a freshly seeded desk (the lost-parcel
ticket must still wait in the Support queue).
"""

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
GAP_SEARCH = "Zollgebühren Schweiz"
LIVE_MENTION_TEXT = "verloren gegangen"
ARTICLE_TITLE = "Paket verloren oder verschwunden"


def sign_in(browser: Any, url: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="de-DE")
    page = context.new_page()
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"demo-{username}-2026")
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()
    return page


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"knowledge_demo_{name}.png"), full_page=True)
    print(f"  screenshot knowledge_demo_{name}.png")


def wait_for(page: Any, url: str, selector: str, *, seconds: float, what: str) -> None:
    """Reload `url` until `selector` is on the page (the worker works in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page.goto(url)
        if page.locator(selector).count():
            return
        time.sleep(2)
    raise SystemExit(f"timed out waiting for {what}")


def run(url: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        print("anton searches the information centre")
        anton = sign_in(browser, url, "anton")
        anton.goto(f"{url}/knowledge/?q={GAP_SEARCH}")
        assert anton.locator("#no-articles").count() == 1
        shot(anton, "01_search_gap")
        anton.goto(f"{url}/knowledge/?q=Rückerstattung")
        assert anton.locator("#article-results mark").count() >= 1
        shot(anton, "02_search_compound")

        print("anton takes the lost-parcel ticket from his queue")
        anton.goto(f"{url}/queue/")
        row = anton.locator("tr.row", has_text=LIVE_MENTION_TEXT).first
        row.locator("form[data-action=take] button").click()
        anton.wait_for_url("**/tickets/*/")
        ticket_url = anton.url
        anton.wait_for_selector("#suggestions-body .suggestion[data-article]")
        article = anton.locator("#suggestions-body .suggestion[data-article]").first
        assert ARTICLE_TITLE in article.inner_text(), article.inner_text()
        assert anton.locator("#suggestions-body .suggestion[data-answer]").count() >= 1
        shot(anton, "03_ticket_suggestions")

        print("anton inserts the article's passage and sends the reply for approval")
        anton.fill("#reply-text", "Hallo Paul, das tut uns leid!")
        article.locator("button[data-mode=quote]").click()
        expect(anton.locator("#reply-text")).to_have_value(re.compile("Nachforschungsauftrag"))
        shot(anton, "04_passage_inserted")
        anton.click("#reply-submit")
        anton.wait_for_load_state()
        reply = anton.locator("li.msg-out[data-reply-status=pending_review]").last
        reply_id = reply.get_attribute("id").removeprefix("reply-")

        print("olga approves it; the worker delivers it")
        olga = sign_in(browser, url, "olga")
        olga.goto(f"{url}/review/")
        olga.click(f"#review-{reply_id} .approve-form button")
        olga.wait_for_load_state()
        wait_for(
            anton,
            ticket_url,
            f"#reply-{reply_id}[data-reply-status=sent]",
            seconds=90,
            what="the reply to be sent",
        )

        print("anton resolves the case")
        anton.click("form[data-transition=resolve] button[type=submit]")
        anton.wait_for_load_state()
        assert anton.locator("#ticket-state[data-state=resolved]").count() == 1
        shot(anton, "05_ticket_resolved")

        print("tina sees the use and the search gap on the dashboard")
        tina = sign_in(browser, url, "tina")
        tina.goto(f"{url}/dashboard/")
        articles = tina.locator("section[aria-labelledby=dash-articles-title]")
        gaps = tina.locator("section[aria-labelledby=dash-search_gaps-title]")
        assert ARTICLE_TITLE in articles.inner_text(), articles.inner_text()
        assert GAP_SEARCH.lower() in gaps.inner_text(), gaps.inner_text()
        shot(tina, "06_dashboard")
        tina.locator("section[aria-labelledby=dash-articles-title]").locator("..").screenshot(
            path=str(SCREENSHOTS / "knowledge_demo_06_dashboard_information_centre.png")
        )
        tina.click(f"section[aria-labelledby=dash-articles-title] a:has-text('{ARTICLE_TITLE}')")
        tina.wait_for_load_state()
        usage = tina.inner_text("#article-usage")
        print(f"  article page: {' '.join(usage.split())}")
        shot(tina, "07_article_usage")
        browser.close()
    print("done")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8105")
    run(parser.parse_args(argv).url.rstrip("/"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
