"""The official status server follows the scenario timeline, in both vendor shapes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import feedparser
import pytest

from pantau.lab import Lab, PageMode, load_scenario


async def get_json(http: aiohttp.ClientSession, url: str) -> dict[str, object]:
    async with http.get(url) as response:
        assert response.status == 200, url
        data = await response.json()
        assert isinstance(data, dict)
        return data


async def test_statuspage_and_incidentio_follow_the_timeline() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    async with Lab.start(scenario) as lab, aiohttp.ClientSession() as http:
        page = lab.services["chatgpt"].status_url
        widget = f"{page}proxy/status.chatgpt.pantau.test"

        await lab.apply(scenario, timedelta(minutes=40))
        summary = await get_json(http, f"{page}api/v2/summary.json")
        assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
        assert summary["incidents"] == []
        assert (await get_json(http, widget))["summary"]["ongoing_incidents"] == []  # type: ignore[index]

        # 15 minutes after onset the vendor admits it.
        await lab.apply(scenario, timedelta(minutes=50))
        summary = await get_json(http, f"{page}api/v2/summary.json")
        assert summary["status"]["indicator"] == "major"  # type: ignore[index]
        [incident] = summary["incidents"]  # type: ignore[misc]
        assert incident["status"] == "investigating"
        assert incident["created_at"] == "2025-01-23T11:48:00Z"
        components = {c["name"]: c["status"] for c in summary["components"]}  # type: ignore[attr-defined]
        assert components == {"ChatGPT": "major_outage", "API": "partial_outage",
                              "Sora": "operational"}
        ongoing = (await get_json(http, widget))["summary"]["ongoing_incidents"]  # type: ignore[index]
        assert [(i["status"], i["current_worst_impact"]) for i in ongoing] == [
            ("investigating", "full_outage")
        ]

        await lab.apply(scenario, timedelta(minutes=70))
        unresolved = await get_json(http, f"{page}api/v2/incidents/unresolved.json")
        [incident] = unresolved["incidents"]  # type: ignore[misc]
        assert [u["status"] for u in incident["incident_updates"]] == [
            "identified", "investigating"
        ]

        await lab.apply(scenario, timedelta(minutes=110))
        assert (await get_json(http, f"{page}api/v2/incidents/unresolved.json"))["incidents"] == []
        [resolved] = (await get_json(http, f"{page}api/v2/incidents.json"))["incidents"]  # type: ignore[misc]
        assert resolved["status"] == "resolved"
        assert resolved["resolved_at"] == "2025-01-23T12:45:00Z"
        assert resolved["monitoring_at"] == "2025-01-23T12:28:00Z"
        status = await get_json(http, f"{page}api/v2/status.json")
        assert status["status"]["indicator"] == "none"  # type: ignore[index]

        for feed in ("history.atom", "history.rss", "feed.atom", "feed.rss"):
            async with http.get(f"{page}{feed}") as response:
                parsed = feedparser.parse(await response.text())
            assert not parsed.bozo, feed
            assert [e.title for e in parsed.entries] == ["Elevated error rates for ChatGPT"]
            assert "Resolved" in parsed.entries[0].description


async def test_maintenance_window() -> None:
    scenario = load_scenario("planned-maintenance")
    async with Lab.start(scenario) as lab, aiohttp.ClientSession() as http:
        page = lab.services["bankku"].status_url
        await lab.apply(scenario, timedelta(minutes=10))
        upcoming = await get_json(http, f"{page}api/v2/scheduled-maintenances/upcoming.json")
        [planned] = upcoming["scheduled_maintenances"]  # type: ignore[misc]
        assert planned["scheduled_for"] == "2025-03-02T16:30:00Z"
        assert planned["scheduled_until"] == "2025-03-02T17:30:00Z"
        assert planned["impact"] == "maintenance"
        assert (await get_json(http, f"{page}api/v2/status.json"))["status"]["indicator"] == "none"  # type: ignore[index]
        widget = (await get_json(http, f"{page}proxy/x"))["summary"]
        assert [m["status"] for m in widget["scheduled_maintenances"]] == ["maintenance_scheduled"]  # type: ignore[index]

        await lab.apply(scenario, timedelta(minutes=45))
        active = await get_json(http, f"{page}api/v2/scheduled-maintenances/active.json")
        assert [m["status"] for m in active["scheduled_maintenances"]] == ["in_progress"]  # type: ignore[attr-defined]
        summary = await get_json(http, f"{page}api/v2/summary.json")
        assert summary["status"]["indicator"] == "maintenance"  # type: ignore[index]
        assert summary["incidents"] == []
        widget = (await get_json(http, f"{page}proxy/x"))["summary"]
        assert widget["in_progress_maintenances"][0]["ends_at"] == "2025-03-02T17:30:00Z"  # type: ignore[index]

        await lab.apply(scenario, timedelta(minutes=100))
        done = await get_json(http, f"{page}api/v2/scheduled-maintenances.json")
        assert [m["status"] for m in done["scheduled_maintenances"]] == ["completed"]  # type: ignore[attr-defined]


async def test_page_failures_and_manual_posts() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    async with Lab.start(scenario) as lab, aiohttp.ClientSession() as http:
        page = lab.services["claude"].status_url
        lab.post_status("claude", "api-errors", "investigating", "Looking into it.",
                        title="API errors", components={"API": "degraded_performance"})
        summary = await get_json(http, f"{page}api/v2/summary.json")
        assert summary["status"]["indicator"] == "minor"  # type: ignore[index]
        lab.set_page_mode("claude", PageMode.ERROR)
        async with http.get(f"{page}api/v2/summary.json") as response:
            assert response.status == 503
        lab.set_page_mode("claude", PageMode.INVALID)
        async with http.get(f"{page}api/v2/summary.json") as response:
            with pytest.raises(aiohttp.ContentTypeError):
                await response.json()
        lab.set_page_mode("claude", PageMode.HANG)
        with pytest.raises(asyncio.TimeoutError):
            await http.get(f"{page}api/v2/summary.json", timeout=aiohttp.ClientTimeout(total=0.3))
        async with http.get(f"{lab.status.page_url('nope')}api/v2/summary.json") as response:
            assert response.status == 404
