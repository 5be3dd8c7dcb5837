"""The catalog page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pantau.web.api import CatalogDep
from pantau.web.render import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def catalog_page(request: Request, catalog: CatalogDep, q: str | None = None) -> HTMLResponse:
    services = catalog.search(q) if q else list(catalog.services)
    return render(request, "index.html", services=services, query=q or "")
