"""`pantau check` and `pantau wait` against a real server fed by lab replays."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from incident_app import chatgpt_outage, runtime
from incident_factories import all_ok, crowd, minute
from lab_replay import replay
from live_server import live_server, pantau

from pantau.clock import FrozenClock
from pantau.incidents.engine import Minute, ServiceInput
from pantau.lab.lab import Lab
from pantau.lab.scenario import load_scenario
from pantau.runtime import Runtime


def _reader_args(lab: Lab, vantage: str) -> list[str]:
    """Run `pantau check` as a person sitting at `vantage` (its resolver, its network)."""
    v = lab.vantages[vantage]
    host, port = v.dns_address
    return ["--resolver", f"{host}:{port}", "--host", v.canary_url, "--allow-private",
            "--ca-file", str(lab.ca_file), "--timeout", "1", "--json"]


async def _check_during(scenario_name: str, service: str, at: timedelta, vantages: list[str],
                        db: str, human: bool = False) -> dict[str, tuple[int, dict[str, Any]]]:
    scenario = load_scenario(scenario_name)
    clock = FrozenClock(scenario.start)
    results: dict[str, tuple[int, dict[str, Any]]] = {}
    rt: Runtime | None = None  # built in the first minute, from the lab's catalog

    async def on_minute(lab: Lab, offset: timedelta, minute: Minute) -> None:
        nonlocal rt
        if rt is None:
            rt = runtime(db, clock, lab.catalog())
            await rt.store.start()
        store: Any = rt.store
        await store.save_fusion(minute.at, list(minute.assessments.values()),
                                dict(minute.incidents), minute.changed, minute.events)
        if offset == at:
            async with live_server(rt) as url:
                for v in vantages:
                    code, out, err = await pantau("check", service, "--server", url,
                                                  *_reader_args(lab, v))
                    assert out, err
                    results[v] = (code, json.loads(out))
                if human:
                    code, out, err = await pantau("check", service, "--server", url,
                                                  "--lang", "id",
                                                  *_reader_args(lab, vantages[0])[:-1])
                    results["human"] = (code, {"out": out, "err": err})

    await replay(scenario, until=at, on_minute=on_minute, clock=clock)
    return results


@pytest.mark.slow
async def test_check_not_just_you_during_chatgpt_outage(tmp_path: Path) -> None:
    got = await _check_during("chatgpt-2025-01-23", "chatgpt", timedelta(minutes=45), ["jakarta"],
                              f"sqlite:///{tmp_path}/p.db", human=True)
    code, body = got["jakarta"]
    assert (code, body["verdict"], body["layer"]) == (1, "not_just_you", "origin")
    assert body["text"]["en"].startswith("Not just you: ChatGPT is down for everyone since "
                                         "18:3")
    assert "Cloudflare" in body["text"]["en"]
    assert body["local"]["offline"] is False and body["local"]["resolver_ok"] is True
    assert [s["layer"] for s in body["local"]["service"]] == ["origin", "origin"]
    assert body["global"]["state"] == "outage"
    assert body["advice"] and "Bukan hanya Anda" in body["text"]["id"]
    code, human = got["human"]
    assert code == 1 and human["out"].startswith("Bukan hanya Anda: ChatGPT sedang down")
    assert "Pemeriksaan dari sini" in human["out"] and "Traceback" not in human["err"]


@pytest.mark.slow
async def test_check_just_you_when_the_readers_isp_is_cut(tmp_path: Path) -> None:
    got = await _check_during("isp-outage", "whatsapp", timedelta(minutes=40),
                              ["surabaya", "jakarta"], f"sqlite:///{tmp_path}/p.db")
    code, body = got["surabaya"]
    assert (code, body["verdict"], body["layer"]) == (3, "just_you", "client")
    assert body["local"]["offline"] is True and body["local"]["resolver_ok"] is False
    assert body["global"]["state"] == "operational"
    assert body["text"]["en"].startswith("Just you: none of the independent test hosts")
    code, body = got["jakarta"]
    assert (code, body["verdict"]) == (0, "no_problem")


async def test_wait_rings_when_the_service_is_back(tmp_path: Path) -> None:
    clock = FrozenClock(minute(5))
    rt = runtime(f"sqlite:///{tmp_path}/w.db", clock)
    store: Any = rt.store
    await store.start()
    engine = await chatgpt_outage(store)
    seen: list[str] = []
    async with live_server(rt, seen) as url:
        waiter = asyncio.create_task(pantau("wait", "chatgpt", "--server", url, "--interval",
                                            "0.1", "--max-interval", "0.2", "--lang", "en",
                                            "--timeout", "60"))
        # Generous limits: a loaded CI machine can take seconds to start the subprocess.
        async with asyncio.timeout(60):  # until the waiter has seen the outage twice
            while seen.count("/api/v1/services/chatgpt/status") < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert not waiter.done()
        for n in range(6, 12):
            clock.advance(60)
            m = engine.step(minute(n), [ServiceInput("chatgpt", "ChatGPT", "cloudflare",
                                                     crowd(minute(n)), all_ok(minute(n)))])
            await store.save_fusion(m.at, list(m.assessments.values()), dict(m.incidents),
                                    m.changed, m.events)
        code, out, _ = await waiter
    assert code == 0
    assert "\a" in out
    assert "ChatGPT works again; it was down for 3 minutes." in out


async def test_wait_gives_up_after_timeout(tmp_path: Path) -> None:
    clock = FrozenClock(minute(5))
    rt = runtime(f"sqlite:///{tmp_path}/w.db", clock)
    store: Any = rt.store
    await store.start()
    await chatgpt_outage(store)
    async with live_server(rt) as url:
        code, out, _ = await pantau("wait", "chatgpt", "--server", url, "--interval", "0.1",
                                    "--timeout", "0.5", "--lang", "id")
    assert code == 1
    assert "masih belum berfungsi" in out


async def test_check_bad_usage_is_one_line(tmp_path: Path) -> None:
    code, _, err = await pantau("check", "no-such-service-anywhere", "--server",
                                  "http://127.0.0.1:9")
    assert code == 2
    assert "no service matches" in err and "Traceback" not in err
