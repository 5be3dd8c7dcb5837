"""The `pantau` command line."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console
from rich.text import Text

from pantau import __version__

app = typer.Typer(
    name="pantau",
    help="Is it down for everyone, or just me? An outage detector for online services.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, soft_wrap=True)

# Each module adds its commands through `register(app)`.
COMMANDS: tuple[str, ...] = (
    "pantau.cli.serve",
    "pantau.cli.demo",
    "pantau.cli.official",
    "pantau.cli.probe",
    "pantau.cli.lab",
    "pantau.cli.check",
    "pantau.cli.wait",
    "pantau.cli.detect",
    "pantau.cli.report",
)


class CliError(Exception):
    """A problem the operator can fix; printed as one line, exit code `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _version(value: bool) -> None:
    if value:
        print(f"pantau {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """pantau: crowd reports, probes and official status pages fused into one verdict."""


for _name in COMMANDS:
    importlib.import_module(_name).register(app)


def main() -> None:
    try:
        app(standalone_mode=True)
    except CliError as exc:
        err.print(Text.assemble(("error: ", "red"), str(exc)))
        sys.exit(exc.code)
