"""Commands that ask a pantau server refuse a malformed server URL as bad usage."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pantau.cli import app


@pytest.mark.parametrize("command", [["check", "chatgpt"], ["wait", "chatgpt"],
                                     ["report", "chatgpt"]])
def test_a_malformed_server_url_is_bad_usage(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--server", "http://[::1"])
    assert result.exit_code == 2, result.output
    assert "not an http(s) URL" in result.output
