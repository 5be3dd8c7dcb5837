"""The service page in headless Chromium during the chatgpt-2025-01-23 replay.

The lab replays the outage through the real pipeline into a real server; Chromium loads
the page in English and Indonesian, with and without JavaScript, submits the "I have a
problem" form both ways, and watches the live update arrive over SSE. Screenshots are
kept under artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from pantau.clock import FrozenClock
from pantau.incidents.engine import Minute
from pantau.lab.lab import Lab
from pantau.lab.scenario import load_scenario
from pantau.runtime import Runtime
from pantau.settings import load_settings
from pantau.store import Store
from tests.incidents.lab_replay import replay
from tests.incidents.live_server import live_server
from tests.services import unavailable

CHROMIUM = os.environ.get("PANTAU_CHROMIUM") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def _check_page(browser: Browser, url: str, *, lang: str, js: bool) -> Page:
    context = await browser.new_context(java_script_enabled=js, locale=lang)
    page = await context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    response = await page.goto(f"{url}/services/chatgpt?lang={lang}&tz=Asia/Jakarta")
    assert response is not None and response.status == 200
    assert len(await response.body()) < 100_000
    assert await page.get_attribute("html", "lang") == lang
    sentence = await page.inner_text("#sentence")
    if lang == "en":
        assert sentence.startswith("ChatGPT is down for everyone since 18:3")
        assert "the server behind Cloudflare is not answering" in sentence
    else:
        assert sentence.startswith("ChatGPT sedang down untuk semua orang sejak 18.3")
        assert "server di balik Cloudflare tidak menjawab" in sentence
    title = "Problem reports in the last 24 hours" if lang == "en" else \
        "Laporan masalah dalam 24 jam terakhir"
    assert await page.text_content("svg.chart title") == title
    assert await page.locator("svg.chart polyline").count() == 2
    rows = page.locator("#top-problems tbody tr")
    assert 1 <= await rows.count() <= 3
    assert "%" in await rows.first.inner_text()
    assert await page.locator("#probe-matrix tbody tr").count() == 3
    assert hosts == {url.split("/")[2]}, f"third-party requests: {hosts}"
    await _accessible(page)
    suffix = f"{lang}-{'js' if js else 'nojs'}"
    await page.screenshot(path=str(ARTIFACTS / f"service-{suffix}.png"), full_page=True)
    return page


# The lowest WCAG contrast ratio between any visible text and its effective background.
MIN_CONTRAST_JS = """
() => {
  const lum = (c) => {
    const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c && !c.startsWith("rgba(0, 0, 0, 0)") && c !== "transparent") return c;
    }
    return "rgb(255, 255, 255)";
  };
  let worst = 21, where = "";
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const a = lum(getComputedStyle(el).color), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < worst) {
      worst = ratio;
      where = el.tagName + " " + el.textContent.trim().slice(0, 30);
    }
  }
  return [worst, where];
}
"""


async def _accessible(page: Page) -> None:
    worst, where = await page.evaluate(MIN_CONTRAST_JS)
    assert worst >= 4.5, f"contrast {worst:.2f} at {where}"
    await page.keyboard.press("Tab")  # the first stop skips the header, to the content
    assert await page.evaluate("document.activeElement.getAttribute('href')") == "#main"


async def _report_with_js(page: Page) -> None:
    await page.check("input[name=category][value=login]")
    await page.fill("#report-text", "tidak bisa login")
    await page.keyboard.press("Tab")
    await page.click("#report-form button[type=submit]")
    await page.wait_for_function(
        "document.getElementById('report-result').textContent.length > 0")
    assert "Thank you" in await page.inner_text("#report-result")


async def _report_without_js(page: Page) -> None:
    # Keyboard only: focus the first category, then submit the form with Enter.
    await page.focus("#report-text")
    await page.keyboard.type("502 bad gateway")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/services/chatgpt/reported**")
    assert "Terima kasih" in await page.content()
    await page.screenshot(path=str(ARTIFACTS / "reported-id-nojs.png"))


async def test_service_page_during_chatgpt_outage(tmp_path: Path) -> None:
    if shutil.which(CHROMIUM) is None:
        unavailable("Chromium", f"{CHROMIUM} not found; apt-get install chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    scenario = load_scenario("chatgpt-2025-01-23")
    clock = FrozenClock(scenario.start)
    db = f"sqlite:///{tmp_path}/browser.db"
    stack = contextlib.AsyncExitStack()
    live: dict[str, Any] = {}

    async def on_minute(lab: Lab, offset: timedelta, minute: Minute) -> None:
        if "store" not in live:
            store = Store(db)
            store.migrate()
            await store.start()
            live["store"] = store
            live["rt"] = Runtime(settings=load_settings(database=db), store=store,
                                 catalog=lab.catalog(), clock=clock)
        await live["store"].save_fusion(minute.at, list(minute.assessments.values()),
                                        dict(minute.incidents), minute.changed, minute.events)
        if offset == timedelta(minutes=45):
            url = await stack.enter_async_context(live_server(live["rt"]))
            pw = await stack.enter_async_context(async_playwright())
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            stack.push_async_callback(browser.close)
            english = await _check_page(browser, url, lang="en", js=True)
            await _report_with_js(english)
            await _check_page(browser, url, lang="id", js=True)
            plain = await _check_page(browser, url, lang="id", js=False)
            assert await plain.locator("#report-form[method=post]").count() == 1
            await _report_without_js(plain)
            assert await live["store"].report_count("chatgpt") == 2  # both reports stored
            live["page"] = english
            live["at"] = await english.get_attribute("#checked", "data-at")
        if offset == timedelta(minutes=47):
            # The stream pushes the newer minute without a reload.
            page: Page = live["page"]
            await page.wait_for_function(
                "before => document.getElementById('checked').dataset.at !== before",
                arg=live["at"], timeout=15_000)
            assert "ChatGPT is down for everyone" in await page.inner_text("#sentence")
            await page.screenshot(path=str(ARTIFACTS / "service-en-live.png"), full_page=True)

    try:
        await replay(scenario, until=timedelta(minutes=47), on_minute=on_minute, clock=clock)
    finally:
        await stack.aclose()
    assert "page" in live
