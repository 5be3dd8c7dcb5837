"""Rewrite the initial migration from the tables' definitions.

Before the first release there are no databases to upgrade, so the schema is kept as one
initial migration, regenerated whenever a domain changes its tables:

    python -m pantau.store.migrations.regen
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from pantau.store.base import alembic_config

VERSIONS = Path(__file__).parent / "versions"


def regenerate() -> Path:
    for old in VERSIONS.glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/empty.db"
        config = alembic_config(url)
        with create_engine(url).begin() as conn:
            config.attributes["connection"] = conn
            command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")
    (path,) = VERSIONS.glob("0001_*.py")
    # Autogenerate writes long lines and unsorted imports; the project style is ruff's.
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(path)], check=False)  # noqa: S603
    subprocess.run([sys.executable, "-m", "ruff", "check", "-q", "--fix", str(path)], check=False)  # noqa: S603
    return path


if __name__ == "__main__":
    print(regenerate())
