"""Status page documents in the vendors' shapes, written for these tests."""

from __future__ import annotations

from typing import Any

T0 = "2025-01-23T12:00:00Z"


def sp_incident(
    iid: str = "inc1",
    status: str = "investigating",
    impact: str = "major",
    updates: list[tuple[str, str, str]] | None = None,
    components: list[str] | None = None,
) -> dict[str, Any]:
    ups = updates or [("u1", "investigating", "2025-01-23T12:10:00Z")]
    return {
        "id": iid,
        "name": "Elevated error rates on ChatGPT",
        "status": status,
        "impact": impact,
        "created_at": ups[0][2],
        "updated_at": ups[-1][2],
        "resolved_at": ups[-1][2] if status == "resolved" else None,
        "shortlink": f"https://stspg.example/{iid}",
        "incident_updates": [
            {
                "id": uid,
                "status": st,
                "body": f"We are {st} the problem.",
                "created_at": at,
                "display_at": at,
                "affected_components": [
                    {
                        "code": "c1",
                        "name": n,
                        "old_status": "operational",
                        "new_status": "major_outage",
                    }
                    for n in (components or [])
                ],
            }
            for uid, st, at in reversed(ups)
        ],
        "components": [
            {"id": "c-" + n, "name": n, "status": "major_outage"} for n in (components or [])
        ],
    }


def sp_maintenance(status: str = "scheduled") -> dict[str, Any]:
    m = sp_incident(
        "m1",
        status=status,
        impact="maintenance",
        updates=[("mu1", "scheduled", "2025-01-22T09:00:00Z")],
        components=["API"],
    )
    m["name"] = "Database upgrade"
    m["scheduled_for"] = "2025-01-24T01:00:00Z"
    m["scheduled_until"] = "2025-01-24T03:00:00Z"
    return m


def sp_summary(
    indicator: str = "none",
    chatgpt: str = "operational",
    api: str = "operational",
    incidents: list[dict[str, Any]] | None = None,
    maintenances: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "page": {
            "id": "p1",
            "name": "OpenAI",
            "url": "https://status.example",
            "time_zone": "Etc/UTC",
            "updated_at": T0,
        },
        "status": {
            "indicator": indicator,
            "description": "All Systems Operational"
            if indicator == "none"
            else "Partial System Outage",
        },
        "components": [
            {
                "id": "g1",
                "name": "Products",
                "status": "operational",
                "group": True,
                "group_id": None,
            },
            {
                "id": "c-ChatGPT",
                "name": "ChatGPT",
                "status": chatgpt,
                "group": False,
                "group_id": "g1",
            },
            {"id": "c-API", "name": "API", "status": api, "group": False, "group_id": None},
            {
                "id": "c-Sora",
                "name": "Sora",
                "status": "operational",
                "group": False,
                "group_id": None,
            },
        ],
        "incidents": incidents or [],
        "scheduled_maintenances": maintenances or [],
    }


def widget(
    incidents: list[dict[str, Any]] | None = None,
    affected: list[dict[str, Any]] | None = None,
    in_progress: list[dict[str, Any]] | None = None,
    scheduled: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "summary": {
            "id": "01PAGE",
            "name": "OpenAI",
            "public_url": "https://status.example",
            "affected_components": affected or [],
            "ongoing_incidents": incidents or [],
            "in_progress_maintenances": in_progress or [],
            "scheduled_maintenances": scheduled or [],
            "structure": {
                "items": [
                    {
                        "group": {
                            "id": "g1",
                            "name": "Products",
                            "hidden": False,
                            "components": [
                                {"component_id": "01CHAT", "name": "ChatGPT", "hidden": False},
                                {"component_id": "01OLD", "name": "Retired", "hidden": True},
                            ],
                        }
                    },
                    {"component": {"component_id": "01API", "name": "API", "hidden": False}},
                ]
            },
        }
    }


def widget_incident(
    status: str = "investigating",
    at: str = "2025-01-23T12:10:00Z",
    message: str = "We are investigating.",
) -> dict[str, Any]:
    return {
        "id": "01INC",
        "name": "ChatGPT unavailable",
        "status": status,
        "url": "https://status.example/incidents/01INC",
        "published_at": "2025-01-23T12:08:00Z",
        "last_update_at": at,
        "last_update_message": message,
        "current_worst_impact": "full_outage",
        "affected_components": [{"component_id": "01CHAT"}],
        "component_impacts": [
            {
                "component_id": "01CHAT",
                "status": "full_outage",
                "start_at": "2025-01-23T12:00:00Z",
                "end_at": None,
            }
        ],
    }


def rss(items: list[tuple[str, str, str, str]]) -> bytes:
    """items: (guid, title, pubDate RFC 822, html description)."""
    entries = "".join(
        f"<item><title>{t}</title><guid>{g}</guid><link>https://status.example/i/{g}</link>"
        f"<pubDate>{d}</pubDate><description><![CDATA[{h}]]></description></item>"
        for g, t, d, h in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Example status</title><link>https://status.example</link>{entries}"
        "</channel></rss>"
    ).encode()
