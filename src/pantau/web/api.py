"""The catalog part of the JSON API, and the health check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from pantau.catalog import Catalog, Service
from pantau.store import Store
from pantau.web.errors import unknown_service

router = APIRouter()


def get_catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
StoreDep = Annotated[Store, Depends(get_store)]


def get_service(slug: str, catalog: CatalogDep) -> Service:
    service = catalog.get(slug)
    if service is None:
        raise unknown_service(slug)
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def cache_briefly(request: Request, response: Response) -> None:
    """Let browsers and shared caches (a CDN in front of pantau) keep an answer about the
    current state for PANTAU_PAGE_CACHE_SECONDS: when a big service fails, scripts, status
    widgets and `pantau check` ask the same question thousands of times a second, and an
    edge that answers most of them leaves the server to the reports. Only successful
    answers: errors are answered by the exception handlers, with responses of their own.
    As a dependency it marks the answers of routes that return data; a route that
    returns a Response itself calls it on that response."""
    seconds = request.app.state.settings.page_cache_seconds
    response.headers["Cache-Control"] = (
        f"public, max-age={max(1, round(seconds))}" if seconds > 0 else "no-cache"
    )


BRIEFLY_CACHED = [Depends(cache_briefly)]
"""The dependencies of the routes whose answers caches may keep (`cache_briefly`)."""


def service_summary(service: Service) -> dict[str, Any]:
    return {
        "slug": service.slug,
        "name": service.name,
        "aliases": list(service.aliases),
        "category": service.category,
        "cdn": service.cdn,
        "status_page": str(service.status_page.url) if service.status_page else None,
    }


@router.get("/api/v1/services", summary="List the services pantau watches")
def list_services(catalog: CatalogDep, q: str | None = None) -> list[dict[str, Any]]:
    chosen = catalog.search(q) if q else list(catalog.services)
    return [service_summary(s) for s in chosen]


@router.get("/api/v1/services/{slug}", summary="One service as the catalog defines it")
def show_service(service: ServiceDep) -> dict[str, Any]:
    return service.model_dump(mode="json")


@router.get("/healthz", summary="Liveness and database reachability")
async def healthz(store: StoreDep) -> JSONResponse:
    try:
        await store.read(lambda conn: conn.exec_driver_sql("SELECT 1").scalar())
    except Exception as exc:
        return JSONResponse({"ok": False, "database": str(exc).splitlines()[0]}, status_code=503)
    return JSONResponse({"ok": True, "database": store.dialect,
                         "pending_writes": store.writer.pending})
