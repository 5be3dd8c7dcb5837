"""A live update in headless Chromium replaces every part of the verdict it shows."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from incident_app import chatgpt_outage, runtime
from incident_factories import all_ok, crowd, minute
from live_server import live_server
from playwright.async_api import async_playwright

from pantau.clock import FrozenClock
from pantau.incidents.engine import ServiceInput
from tests.browser.test_browser_service_page import ARGS, CHROMIUM
from tests.services import unavailable

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_a_live_minute_updates_state_and_layer_in_the_readers_words(
        tmp_path: Path) -> None:
    if shutil.which(CHROMIUM) is None:
        unavailable("Chromium", f"{CHROMIUM} not found; apt-get install chromium")
    clock = FrozenClock(minute(5))
    rt = runtime(f"sqlite:///{tmp_path}/live.db", clock)
    store: Any = rt.store
    await store.start()
    engine = await chatgpt_outage(store)
    async with live_server(rt) as url, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{url}/services/chatgpt?lang=id&tz=Asia/Jakarta")
            assert await page.inner_text("#layer") == "server asal di balik CDN"
            before = await page.get_attribute("#checked", "data-at")
            clock.advance(60)  # the service answers again
            m = engine.step(minute(6), [ServiceInput("chatgpt", "ChatGPT", "cloudflare",
                                                     crowd(minute(6)), all_ok(minute(6)))])
            await store.save_fusion(m.at, list(m.assessments.values()), dict(m.incidents),
                                    m.changed, m.events)
            await page.wait_for_function(
                "before => document.getElementById('checked').dataset.at !== before",
                arg=before, timeout=15_000)
            assert await page.inner_text("#state") == "normal"
            assert await page.inner_text("#layer") == "tidak ada masalah"
            # The time in the words the page was rendered in, not the browser's format.
            assert await page.inner_text("#checked") == "18.36 WIB"
        finally:
            await browser.close()
