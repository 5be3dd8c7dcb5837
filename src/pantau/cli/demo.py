"""`pantau demo`: the server on a throw-away SQLite database."""

from __future__ import annotations

import tempfile

import typer

from pantau.cli.serve import build_runtime, run_server, settings_from_cli
from pantau.web.app import create_app


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(port: int = typer.Option(8000, help="Port for the web pages.")) -> None:
        """Serve pantau with the bundled catalog on a temporary SQLite database."""
        with tempfile.TemporaryDirectory(prefix="pantau-demo-") as tmp:
            settings = settings_from_cli(database=f"sqlite:///{tmp}/demo.db", port=port)
            runtime = build_runtime(settings)
            typer.echo(f"pantau demo: open http://127.0.0.1:{port}/  (Ctrl-C to stop)")
            run_server(create_app(runtime), "127.0.0.1", port)
