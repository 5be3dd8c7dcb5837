"""The summary boxes above the probe matrix say what the vantage points saw, in both languages."""

from __future__ import annotations

from pantau.incidents.model import VantageBox
from pantau.signals import Layer, counted
from pantau.web.page_text import summary_boxes


def box(name: str, host: bool | None, edge: bool | None = True) -> VantageBox:
    return VantageBox(vantage=name, ok=bool(host), reliable=True, layer=Layer.NONE, cause="",
                      cdn="cloudflare", status=200, total_ms=20.0, you=True, edge=edge,
                      host=host)


def words(boxes: list[VantageBox]) -> dict[str, tuple[bool | None, str, str]]:
    return {label.en: (ok, said.en, said.id)
            for label, ok, said, _ in summary_boxes(boxes, 3, 1.0, surge=False)}


def test_an_even_split_reads_mixed_in_both_languages() -> None:
    seen = words([box("jakarta", True), box("surabaya", False)])
    assert seen["Host"] == (False, "Mixed", "Campuran")
    assert seen["CDN"] == (True, "Working", "Berfungsi")


def test_the_majority_of_those_that_know_decides() -> None:
    seen = words([box("a", False), box("b", False), box("c", True), box("d", None, None)])
    assert seen["Host"] == (False, "Error", "Galat")
    assert seen["CDN"] == (True, "Working", "Berfungsi")
    seen = words([box("a", None, None)])
    assert seen["Host"] == (None, "Not reached", "Tidak tercapai")
    assert words([])["You"] == (None, "Not reached", "Tidak tercapai")


def test_one_report_is_one_report() -> None:
    crowd = {label.en: said for label, _, _, said in summary_boxes([], 1, 3.0, surge=False)}
    assert (crowd["Crowd"].en, crowd["Crowd"].id) == (
        "1 report a minute (usually 3.0)", "1 laporan per menit (biasanya 3,0)")
    many = {label.en: said for label, _, _, said in summary_boxes([], 4, 3.0, surge=False)}
    assert many["Crowd"].en.startswith("4 reports a minute")
    assert [counted(n, "minute", "minutes") for n in (0, 1, 2)] == [
        "0 minutes", "1 minute", "2 minutes"]
