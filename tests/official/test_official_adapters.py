from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from official_fixtures import (
    rss,
    sp_incident,
    sp_maintenance,
    sp_summary,
    widget,
    widget_incident,
)

from pantau.official.errors import ErrorKind, PageError
from pantau.official.feed import parse_feed
from pantau.official.incidentio import parse_widget
from pantau.official.model import ComponentState, PageKind, combine
from pantau.official.statuspage import parse_incidents, parse_summary
from pantau.signals import OfficialPageState

URL = "http://status.test/api/v2/summary.json"
NOW = datetime(2025, 1, 23, 12, 30, tzinfo=UTC)


def _b(doc: object) -> bytes:
    return json.dumps(doc).encode()


def test_statuspage_summary_reads_state_components_incidents_and_maintenance() -> None:
    inc = sp_incident(
        updates=[
            ("u1", "investigating", "2025-01-23T12:10:00Z"),
            ("u2", "identified", "2025-01-23T12:20:00Z"),
        ],
        status="identified",
        components=["ChatGPT"],
    )
    part = parse_summary(
        URL,
        _b(
            sp_summary(
                "major", chatgpt="major_outage", incidents=[inc], maintenances=[sp_maintenance()]
            )
        ),
    )
    assert part.state is OfficialPageState.PARTIAL_OUTAGE
    assert part.name == "OpenAI"
    assert part.components is not None
    # The group is a container, not a component; its child carries the group's name.
    assert [(c.name, c.state, c.group) for c in part.components] == [
        ("ChatGPT", ComponentState.MAJOR_OUTAGE, "Products"),
        ("API", ComponentState.OPERATIONAL, None),
        ("Sora", ComponentState.OPERATIONAL, None),
    ]
    (incident,) = part.incidents
    assert [u.status for u in incident.updates] == ["investigating", "identified"]
    assert incident.first_post_at == datetime(2025, 1, 23, 12, 10, tzinfo=UTC)
    assert incident.components == ("ChatGPT",)
    assert incident.impact is OfficialPageState.PARTIAL_OUTAGE
    (window,) = part.maintenances
    assert window.is_maintenance and window.status == "scheduled"
    assert window.scheduled_for == datetime(2025, 1, 24, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("indicator", "state"),
    [
        ("none", OfficialPageState.OPERATIONAL),
        ("minor", OfficialPageState.DEGRADED),
        ("major", OfficialPageState.PARTIAL_OUTAGE),
        ("critical", OfficialPageState.MAJOR_OUTAGE),
        ("maintenance", OfficialPageState.MAINTENANCE),
    ],
)
def test_statuspage_indicator_maps_to_page_state(indicator: str, state: OfficialPageState) -> None:
    assert parse_summary(URL, _b(sp_summary(indicator))).state is state


@pytest.mark.parametrize(
    ("body", "kind", "fragment"),
    [
        (b'{"page": {"name": "x"}, "status": {"indic', ErrorKind.TRUNCATED, "EOF"),
        (b"<html>Service Unavailable</html>", ErrorKind.MALFORMED, "not valid JSON"),
        (b'{"page": {"name": "x"}}', ErrorKind.MALFORMED, "status: Field required"),
        (_b(sp_summary("purple")), ErrorKind.MALFORMED, "status.indicator"),
        (_b(sp_summary(chatgpt="on_fire")), ErrorKind.MALFORMED, "components.1.status"),
    ],
)
def test_statuspage_bad_documents_give_clear_errors(
    body: bytes, kind: ErrorKind, fragment: str
) -> None:
    with pytest.raises(PageError) as caught:
        parse_summary(URL, body)
    assert caught.value.kind is kind
    assert fragment in caught.value.message
    assert caught.value.text.id  # the reader's other language is there too


def test_naive_timestamps_are_rejected() -> None:
    inc = sp_incident()
    inc["created_at"] = "2025-01-23T12:10:00"
    with pytest.raises(PageError, match="timezone"):
        parse_incidents(URL, _b({"page": {"name": "x"}, "incidents": [inc]}))


def test_history_merges_with_summary_keeping_every_update() -> None:
    open_inc = sp_incident(updates=[("u1", "investigating", "2025-01-23T12:10:00Z")])
    resolved = sp_incident(
        status="resolved",
        updates=[
            ("u1", "investigating", "2025-01-23T12:10:00Z"),
            ("u2", "resolved", "2025-01-23T13:00:00Z"),
        ],
    )
    snap = combine(
        PageKind.STATUSPAGE,
        URL,
        NOW,
        [
            parse_summary(URL, _b(sp_summary("major", incidents=[open_inc]))),
            parse_incidents(URL, _b({"page": {"name": "OpenAI"}, "incidents": [resolved]})),
        ],
    )
    (incident,) = snap.incidents
    assert incident.status == "resolved"
    assert [u.key for u in incident.updates] == ["u1", "u2"]
    assert snap.open_incidents == ()


def test_widget_reads_structure_impacts_and_maintenance() -> None:
    doc = widget(
        incidents=[widget_incident()],
        affected=[{"component_id": "01CHAT", "status": "full_outage"}],
        in_progress=[
            {
                "id": "01MNT",
                "name": "API database upgrade",
                "status": "maintenance_in_progress",
                "url": "https://status.example/m",
                "last_update_at": "2025-01-23T11:00:00Z",
                "started_at": "2025-01-23T11:00:00Z",
                "scheduled_end_at": "2025-01-23T13:00:00Z",
                "affected_components": [{"component_id": "01API"}],
            }
        ],
    )
    part = parse_widget("http://status.test/proxy/status.test", _b(doc))
    assert part.state is OfficialPageState.MAJOR_OUTAGE
    assert part.components is not None
    assert {(c.name, c.state) for c in part.components} == {
        ("ChatGPT", ComponentState.MAJOR_OUTAGE),
        ("API", ComponentState.OPERATIONAL),
    }  # the hidden component is left out
    (incident,) = part.incidents
    assert incident.components == ("ChatGPT",)
    assert incident.first_post_at == datetime(2025, 1, 23, 12, 8, tzinfo=UTC)
    (window,) = part.maintenances
    assert (window.status, window.components) == ("in_progress", ("API",))
    assert window.scheduled_until == datetime(2025, 1, 23, 13, tzinfo=UTC)


def test_widget_page_with_only_maintenance_is_in_maintenance() -> None:
    doc = widget(
        in_progress=[
            {
                "id": "01MNT",
                "name": "Upgrade",
                "status": "maintenance_in_progress",
                "started_at": "2025-01-23T11:00:00Z",
                "affected_components": [],
            }
        ]
    )
    assert parse_widget("u", _b(doc)).state is OfficialPageState.MAINTENANCE


def test_widget_without_summary_is_malformed() -> None:
    with pytest.raises(PageError, match="summary: Field required"):
        parse_widget("u", _b(sp_summary()))


def test_feed_entries_become_incidents_with_marked_status() -> None:
    body = rss(
        [
            (
                "g2",
                "Scheduled maintenance: API",
                "Thu, 23 Jan 2025 10:00:00 +0000",
                "<p><strong>Scheduled</strong> - We will upgrade the API.</p>",
            ),
            (
                "g1",
                "ChatGPT errors",
                "Thu, 23 Jan 2025 12:10:00 +0000",
                "<p><strong>Identified</strong> - Fix underway.</p>"
                "<p><strong>Investigating</strong> - Looking.</p>",
            ),
        ]
    )
    snap = combine(PageKind.FEED, "u", NOW, [parse_feed("u", body)])
    (incident,) = snap.incidents
    assert (incident.id, incident.status) == ("g1", "identified")
    assert incident.updates[0].body == "Fix underway."  # the newest post only
    (window,) = snap.maintenances
    assert window.status == "scheduled"
    # Without a page state, an open incident means at least degraded.
    assert snap.state is OfficialPageState.DEGRADED


def test_feed_with_resolved_entries_is_operational() -> None:
    body = rss(
        [
            (
                "g1",
                "Errors",
                "Thu, 23 Jan 2025 12:10:00 +0000",
                "<strong>Resolved</strong> - This incident has been resolved.",
            )
        ]
    )
    snap = combine(PageKind.FEED, "u", NOW, [parse_feed("u", body)])
    assert snap.state is OfficialPageState.OPERATIONAL
    assert snap.incidents[0].status == "resolved"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (rss([("g", "t", "Thu, 23 Jan 2025 12:10:00 +0000", "x")])[:120], ErrorKind.TRUNCATED),
        (b'{"not": "a feed"}', ErrorKind.MALFORMED),
        (b"<rss><channel><item></channel></rss>", ErrorKind.MALFORMED),
    ],
)
def test_bad_feeds_give_clear_errors(body: bytes, kind: ErrorKind) -> None:
    with pytest.raises(PageError) as caught:
        parse_feed("http://status.test/history.rss", body)
    assert caught.value.kind is kind


def test_monitoring_incident_does_not_raise_the_state() -> None:
    inc = sp_incident(
        status="monitoring",
        components=["ChatGPT"],
        updates=[
            ("u1", "investigating", "2025-01-23T12:10:00Z"),
            ("u2", "monitoring", "2025-01-23T12:40:00Z"),
        ],
    )
    snap = combine(
        PageKind.STATUSPAGE,
        URL,
        NOW,
        [parse_summary(URL, _b(sp_summary("major", incidents=[inc])))],
    )
    view = snap.to_signal("chatgpt", components=["ChatGPT"])
    assert view.page_state is OfficialPageState.OPERATIONAL  # its component is back
    assert [i.status for i in view.incidents] == ["monitoring"]  # still listed


def test_widget_post_and_history_post_are_one_update() -> None:
    widget_part = parse_widget(
        "w",
        _b(
            widget(
                incidents=[
                    {**widget_incident(), "id": "inc1", "last_update_at": "2025-01-23T12:10:00Z"}
                ]
            )
        ),
    )
    history = parse_incidents(URL, _b({"page": {"name": "x"}, "incidents": [sp_incident()]}))
    (merged,) = combine(PageKind.INCIDENTIO, URL, NOW, [widget_part, history]).incidents
    assert [u.key for u in merged.updates] == ["u1"]  # the vendor's id wins over a digest
