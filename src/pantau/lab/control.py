"""The lab's control API: switch modes by hand while the lab runs (`pantau lab serve`).

    GET  /state                              every service, vantage point and address
    GET  /catalog                            the catalog (JSON, YAML shape) for pantau serve
    POST /services/{slug}/{origin|edge|dns|page}   {"mode": "..."}
    POST /services/{slug}/status             {"incident", "status", "body", "title"?,
                                              "impact"?, "components"?}
    POST /vantages/{name}                    {"cut": true|false}
    POST /apply                              {"scenario": name, "offset": "45m"}

Bad input answers 400 with `{"error": "..."}`; unknown names 404.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from pantau.lab.lab import Lab
from pantau.lab.origin import serve_loopback
from pantau.lab.scenario import Offset, ScenarioError, StatusPost, load_scenario

_OFFSET: TypeAdapter[Any] = TypeAdapter(Offset)


def lab_state(lab: Lab) -> dict[str, Any]:
    state = lab.state
    return {
        "dns": f"{lab.dns_address[0]}:{lab.dns_address[1]}",
        "ca_file": str(lab.ca_file),
        "services": {
            slug: {
                "url": service.url,
                "cdn": service.spec.cdn.value,
                "origin_port": service.origin.port,
                "status_url": service.status_url,
                "status_kind": service.spec.status_page.value,
                "origin": state.origin[slug].value,
                "edge": state.edge[slug].value if service.edge else None,
                "dns": state.dns[slug].value,
                "page": lab.status.modes.get(slug, "ok"),
            }
            for slug, service in lab.services.items()
        },
        "vantages": {
            name: {"region": v.region, "cut": v.cut, "dns": f"{v.dns_address[0]}:"
                   f"{v.dns_address[1]}", "canary_url": v.canary_url}
            for name, v in lab.vantages.items()
        },
    }


class ControlServer:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/state", self._state)
        app.router.add_get("/catalog", self._catalog)
        app.router.add_post("/services/{slug}/status", self._status)
        app.router.add_post("/services/{slug}/{what:origin|edge|dns|page}", self._mode)
        app.router.add_post("/vantages/{name}", self._vantage)
        app.router.add_post("/apply", self._apply)
        self._runner, self.port = await serve_loopback(app, port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(lab_state(self.lab))

    async def _catalog(self, request: web.Request) -> web.Response:
        return web.json_response(self.lab.catalog_data())

    async def _mode(self, request: web.Request) -> web.Response:
        slug, what = request.match_info["slug"], request.match_info["what"]
        body = await _json(request)
        if slug not in self.lab.services:
            raise _error(web.HTTPNotFound, f"no service {slug!r}")
        try:
            mode = str(body["mode"])
            if what == "origin":
                await self.lab.set_origin(slug, mode)
            elif what == "edge":
                self.lab.set_edge(slug, mode)
            elif what == "dns":
                self.lab.set_dns(slug, mode)
            else:
                self.lab.set_page_mode(slug, mode)
        except (KeyError, ValueError) as exc:
            raise _error(web.HTTPBadRequest, f"{what}: {exc}") from None
        return web.json_response(lab_state(self.lab)["services"][slug])

    async def _status(self, request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        if slug not in self.lab.services:
            raise _error(web.HTTPNotFound, f"no service {slug!r}")
        try:
            post = StatusPost.model_validate(await _json(request))
            incident = self.lab.post_status(
                slug, post.incident, post.status, post.body, title=post.title,
                impact=post.impact, components=dict(post.components),
            )
        except (ValidationError, ValueError) as exc:
            raise _error(web.HTTPBadRequest, str(exc)) from None
        return web.json_response({"incident": incident.id, "status": incident.status})

    async def _vantage(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.lab.vantages:
            raise _error(web.HTTPNotFound, f"no vantage point {name!r}")
        body = await _json(request)
        self.lab.cut_vantage(name, bool(body.get("cut", True)))
        return web.json_response({"name": name, "cut": self.lab.vantages[name].cut})

    async def _apply(self, request: web.Request) -> web.Response:
        body = await _json(request)
        try:
            scenario = load_scenario(str(body["scenario"]))
            offset = _OFFSET.validate_python(body.get("offset", 0))
            await self.lab.apply(scenario, offset)
        except (KeyError, ScenarioError, ValidationError) as exc:
            raise _error(web.HTTPBadRequest, str(exc)) from None
        return web.json_response(lab_state(self.lab))


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise _error(web.HTTPBadRequest, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise _error(web.HTTPBadRequest, "the body must be a JSON object")
    return body


def _error(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=json.dumps({"error": message}), content_type="application/json")
