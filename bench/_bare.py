"""The bare ASGI handler bench/ingest.py sets pantau against: it reads the body and answers
202, nothing else (the ceiling of the server software itself). A module of its own so
that, with several workers, each worker process can import it (`make`)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 202,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"id":"0"}'})


def make() -> ASGIApp:
    """The handler, as `pantau.cli.serve.run_server` takes an app by name: a factory, which
    sets each worker's collector as pantau's does."""
    from pantau.cli.serve import tune_collector

    tune_collector()
    return app
