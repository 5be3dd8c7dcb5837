"""The README documents every setting, and the commands it promises exist."""

from __future__ import annotations

from pathlib import Path

from pantau.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [f"PANTAU_{name.upper()}" for name in Settings.model_fields
               if f"PANTAU_{name.upper()}" not in README]
    assert missing == [], "document these in README.md, section Configuration"


def test_readme_opens_with_the_two_commands() -> None:
    opening = README.split("\n## ", 1)[0]
    assert "make demo" in opening and "make test" in opening
