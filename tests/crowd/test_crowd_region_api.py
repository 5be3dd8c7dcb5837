"""A report that names no region gets one from the proxy's geo headers or the database."""

from __future__ import annotations

from pathlib import Path

from pantau.clock import FrozenClock
from pantau.store import Store
from tests.crowd.crowd_fixtures import T0, client, crowd_store, make_app
from tests.crowd.geo_fixtures import city_record, write_database

__all__ = ["crowd_store"]
URL = "/api/v1/services/chatgpt/reports"


async def test_a_report_without_region_is_placed(crowd_store: Store, tmp_path: Path) -> None:
    database = write_database(tmp_path / "city.mmdb",
                              [("203.0.113.0/24", city_record("ID", "JK"))])
    app = make_app(crowd_store, FrozenClock(T0), geoip_database=str(database))
    async with client(app) as http:
        for headers, body in [
            ({"X-Forwarded-For": "203.0.113.9"}, {"category": "app"}),
            ({"X-Forwarded-For": "198.51.100.1", "CF-IPCountry": "ID", "cf-region-code": "JB"},
             {"category": "app"}),
            ({"X-Forwarded-For": "203.0.113.10"}, {"category": "app", "region": "id-bt"}),
            ({"X-Forwarded-For": "198.51.100.2"}, {"category": "app"}),
        ]:
            assert (await http.post(URL, json=body, headers=headers)).status_code == 202
        form = await http.post(URL, data={"category": "login"},
                               headers={"X-Forwarded-For": "203.0.113.11"})
        assert form.status_code == 303
    rows = await crowd_store.report_rows(T0, T0.replace(hour=12))
    assert sorted(str(r.region) for r in rows) == ["ID-BT", "ID-JB", "ID-JK", "ID-JK", "None"]


async def test_shutdown_lets_go_of_the_database(crowd_store: Store, tmp_path: Path) -> None:
    database = write_database(tmp_path / "city.mmdb",
                              [("203.0.113.0/24", city_record("ID", "JK"))])
    app = make_app(crowd_store, FrozenClock(T0), geoip_database=str(database))
    async with app.router.lifespan_context(app), client(app) as http:
        answer = await http.post(URL, json={"category": "app"},
                                 headers={"X-Forwarded-For": "203.0.113.9"})
        assert answer.status_code == 202
        regions = app.state.crowd_endpoint.ingest._regions
        assert regions._database is not None
    assert regions._database is None and app.state.crowd_endpoint is None
