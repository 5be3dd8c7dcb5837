"""Render a `StatusPage` in the two shapes vendors publish.

Atlassian Statuspage v2 (`/api/v2/*.json`, `history.atom`, `history.rss`) and the
incident.io public widget (`/proxy/<host>`) with its `feed.rss` / `feed.atom`.
Every function takes `now` explicitly, because lab pages live in scenario time.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime
from html import escape
from typing import Any

from pantau.lab.status_model import Incident, StatusPage

_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}
_IO_IMPACT = {
    "degraded_performance": "degraded_performance",
    "partial_outage": "partial_outage",
    "major_outage": "full_outage",
}
_IO_RANK = ("degraded_performance", "partial_outage", "full_outage")


def _id(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:12]


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


def page_info(page: StatusPage, url: str, now: datetime) -> dict[str, Any]:
    updated = max((i.updated_at for i in page.incidents), default=now)
    return {
        "id": _id(page.name), "name": page.name, "url": url,
        "time_zone": "Etc/UTC", "updated_at": _iso(updated),
    }


def components(page: StatusPage) -> list[dict[str, Any]]:
    return [
        {
            "id": _id(page.name, name), "name": name, "status": page.component_status(name),
            "position": i + 1, "description": None, "showcase": True, "group_id": None,
            "group": False, "only_show_if_degraded": False, "page_id": _id(page.name),
        }
        for i, name in enumerate(page.components)
    ]


def incident(page: StatusPage, inc: Incident, url: str) -> dict[str, Any]:
    monitoring = next((u.at for u in inc.updates if u.status == "monitoring"), None)
    updates = [
        {
            "id": _id(page.name, inc.id, str(n)), "status": u.status, "body": u.body,
            "incident_id": inc.id, "created_at": _iso(u.at), "updated_at": _iso(u.at),
            "display_at": _iso(u.at), "affected_components": None,
        }
        for n, u in reversed(list(enumerate(inc.updates)))
    ]
    return {
        "id": inc.id, "name": inc.title, "status": inc.status, "impact": inc.impact,
        "created_at": _iso(inc.created_at), "updated_at": _iso(inc.updated_at),
        "started_at": _iso(inc.created_at), "monitoring_at": _iso(monitoring),
        "resolved_at": _iso(inc.resolved_at), "shortlink": f"{url}incidents/{inc.id}",
        "page_id": _id(page.name), "incident_updates": updates,
        "scheduled_for": _iso(inc.scheduled_for), "scheduled_until": _iso(inc.scheduled_until),
        "components": [c for c in components(page) if c["name"] in inc.components],
    }


def _newest_first(incidents: list[Incident]) -> list[Incident]:
    return sorted(incidents, key=lambda i: i.created_at, reverse=True)


def statuspage_json(page: StatusPage, url: str, now: datetime, what: str) -> dict[str, Any]:
    """The body of `/api/v2/<what>.json`; raises KeyError for an unknown document."""
    info = page_info(page, url, now)
    indicator = page.indicator()
    status = {"indicator": indicator, "description": _DESCRIPTIONS[indicator]}
    real = _newest_first([i for i in page.incidents if not i.is_maintenance])
    planned = _newest_first([i for i in page.incidents if i.is_maintenance])
    docs: dict[str, dict[str, Any]] = {
        "status": {"status": status},
        "components": {"components": components(page)},
        "incidents": {"incidents": real},
        "incidents/unresolved": {"incidents": [i for i in real if not i.closed]},
        "scheduled-maintenances": {"scheduled_maintenances": planned},
        "scheduled-maintenances/upcoming": {
            "scheduled_maintenances": [i for i in planned if i.status == "scheduled"]
        },
        "scheduled-maintenances/active": {
            "scheduled_maintenances": [i for i in planned if i.status == "in_progress"]
        },
        "summary": {
            "components": components(page),
            "incidents": [i for i in real if not i.closed],
            "scheduled_maintenances": [i for i in planned if not i.closed],
            "status": status,
        },
    }
    doc = docs[what]
    rendered = {
        key: [incident(page, i, url) for i in value]
        if value and isinstance(value, list) and isinstance(value[0], Incident)
        else value
        for key, value in doc.items()
    }
    return {"page": info, **rendered}


def incidentio_widget(page: StatusPage, url: str) -> dict[str, Any]:
    """The incident.io public widget document (`/proxy/<host>`)."""
    comps = {name: _id(page.name, name) for name in page.components}

    def affected(inc: Incident) -> list[dict[str, Any]]:
        return [
            {"id": comps[name], "name": name,
             "current_status": _IO_IMPACT.get(status, "operational")}
            for name, status in inc.components.items()
            if name in comps
        ]

    def common(inc: Incident) -> dict[str, Any]:
        return {
            "id": inc.id, "name": inc.title, "url": f"{url}incidents/{inc.id}",
            "last_update_at": _iso(inc.updated_at),
            "last_update_message": inc.updates[-1].body,
            "affected_components": affected(inc),
        }

    ongoing: list[dict[str, Any]] = []
    in_progress: list[dict[str, Any]] = []
    scheduled: list[dict[str, Any]] = []
    for inc in _newest_first(page.incidents):
        if inc.closed:
            continue
        if inc.is_maintenance:
            entry = {
                **common(inc), "status": f"maintenance_{inc.status}",
                "starts_at": _iso(inc.scheduled_for), "ends_at": _iso(inc.scheduled_until),
            }
            (in_progress if inc.status == "in_progress" else scheduled).append(entry)
            continue
        impacts = [
            _IO_IMPACT[s] for n, s in inc.components.items() if s in _IO_IMPACT and n in comps
        ]
        worst = max(impacts, key=_IO_RANK.index, default="degraded_performance")
        ongoing.append({**common(inc), "status": inc.status, "current_worst_impact": worst})
    return {
        "summary": {
            "id": _id(page.name), "name": page.name, "public_url": url,
            "components": [{"id": i, "name": n} for n, i in comps.items()],
            "affected_components": [
                {"component_id": comps[n], "status": _IO_IMPACT[s]}
                for n in page.components
                if (s := page.component_status(n)) in _IO_IMPACT
            ],
            "ongoing_incidents": ongoing,
            "in_progress_maintenances": in_progress,
            "scheduled_maintenances": scheduled,
        }
    }


def _entries(page: StatusPage) -> list[tuple[Incident, str]]:
    out = []
    for inc in _newest_first(page.incidents):
        html = "".join(
            f"<p><small>{u.at:%b %d, %H:%M} UTC</small><br><strong>"
            f"{escape(u.status.replace('_', ' ').title())}</strong> - {escape(u.body)}</p>"
            for u in reversed(inc.updates)
        )
        out.append((inc, html))
    return out


def rss(page: StatusPage, url: str, now: datetime) -> str:
    items = "".join(
        f"<item><title>{escape(inc.title)}</title><description>{escape(html)}</description>"
        f"<pubDate>{format_datetime(inc.updated_at)}</pubDate>"
        f"<link>{url}incidents/{inc.id}</link><guid>{url}incidents/{inc.id}</guid></item>"
        for inc, html in _entries(page)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(page.name)} Status - Incident History</title><link>{url}</link>"
        f"<description>Statuspage</description><pubDate>{format_datetime(now)}</pubDate>"
        f"{items}</channel></rss>"
    )


def atom(page: StatusPage, url: str, now: datetime) -> str:
    entries = "".join(
        f"<entry><id>tag:{_id(page.name)},2005:Incident/{inc.id}</id>"
        f"<published>{_iso(inc.created_at)}</published><updated>{_iso(inc.updated_at)}"
        f'</updated><link rel="alternate" type="text/html" href="{url}incidents/{inc.id}"/>'
        f'<title>{escape(inc.title)}</title><content type="html">{escape(html)}</content>'
        "</entry>"
        for inc, html in _entries(page)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xml:lang="en-US" '
        'xmlns="http://www.w3.org/2005/Atom">'
        f"<id>tag:{_id(page.name)},2005:/history</id>"
        f'<link rel="alternate" type="text/html" href="{url}"/>'
        f"<title>{escape(page.name)} Status - Incident History</title>"
        f"<updated>{_iso(now)}</updated>{entries}</feed>"
    )
