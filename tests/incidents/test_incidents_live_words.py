"""live.js shows only words the page hands it, so the gettext catalogue owns every sentence."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from incident_app import runtime
from incident_factories import minute

from pantau.clock import FrozenClock
from pantau.web.app import create_app

LIVE_JS = Path(__file__).parents[2] / "src/pantau/web/static/live.js"


def live_words(client: TestClient, lang: str) -> dict[str, object]:
    html = client.get("/services/chatgpt", params={"lang": lang}).text
    found = re.search(r'<script src="/static/live\.js"[^>]*data-words=\'([^\']*)\'', html)
    assert found is not None
    words: dict[str, object] = json.loads(found.group(1))
    return words


@pytest.mark.parametrize(("lang", "thanks", "failed"), [
    ("en", "Thank you, your report counts.", "Your report could not be sent:"),
    ("id", "Terima kasih, laporan Anda tercatat.", "Laporan tidak terkirim:"),
])
def test_the_report_forms_answers_come_from_the_catalogue(
    sqlite_url: str, lang: str, thanks: str, failed: str
) -> None:
    with TestClient(create_app(runtime(sqlite_url, FrozenClock(minute(5))))) as client:
        words = live_words(client, lang)
    assert (words["thanks"], words["failed"]) == (thanks, failed)
    script = LIVE_JS.read_text(encoding="utf-8")
    assert thanks not in script and failed.rstrip(":") not in script
