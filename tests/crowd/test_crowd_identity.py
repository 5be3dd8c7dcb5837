"""Reporter identity, client addresses behind proxies, validation and text normalisation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from ipaddress import ip_address, ip_network

import pytest
from pydantic import ValidationError

from pantau.crowd.identity import Hasher, Origin, client_address, network_of, origin
from pantau.crowd.ingest import report_id
from pantau.crowd.validate import ReportIn, normalise_text

PROXY = [ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8")]


def test_forwarded_for_is_believed_only_through_trusted_proxies() -> None:
    assert client_address("127.0.0.1", "203.0.113.9", PROXY) == ip_address("203.0.113.9")
    # The peer is not a proxy: the header is the client's own claim, ignored.
    assert client_address("198.51.100.7", "203.0.113.9", PROXY) == ip_address("198.51.100.7")
    # Two trusted hops; the client forged a leftmost entry that must not be used.
    chain = "1.2.3.4, 203.0.113.9, 10.1.1.1"
    assert client_address("127.0.0.1", chain, PROXY) == ip_address("203.0.113.9")
    assert client_address("127.0.0.1", "garbage", PROXY) == ip_address("127.0.0.1")
    assert client_address("127.0.0.1", None, PROXY) == ip_address("127.0.0.1")
    assert client_address(None, "203.0.113.9", PROXY) is None


def test_networks_are_slash_24_and_slash_48() -> None:
    assert str(network_of(ip_address("203.0.113.77"))) == "203.0.113.0/24"
    assert str(network_of(ip_address("2001:db8:1:2::5"))) == "2001:db8:1::/48"
    assert str(network_of(ip_address("::ffff:203.0.113.77"))) == "203.0.113.0/24"
    for text in ("203.0.113.77", "2001:db8:1:2::5", "::ffff:203.0.113.77"):
        where = origin(ip_address(text))
        assert where == Origin(str(ip_address(text)), str(network_of(ip_address(text))))


def test_reporter_hash_hides_the_address_and_changes_every_day() -> None:
    hasher = Hasher(b"secret")
    address = origin(ip_address("203.0.113.77"))
    day1 = hasher.reporter(date(2025, 1, 23), "browser-1234", address)
    again = hasher.reporter(date(2025, 1, 23), "browser-1234", origin(ip_address("203.0.113.78")))
    other = hasher.reporter(date(2025, 1, 23), "browser-5678", address)
    day2 = hasher.reporter(date(2025, 1, 24), "browser-1234", address)
    assert day1 == again  # same client id in the same /24
    assert other.reporter != day1.reporter and other.network == day1.network
    assert day2.reporter != day1.reporter and day2.network != day1.network
    assert "203.0.113" not in day1.reporter + day1.network
    assert Hasher(b"other").reporter(date(2025, 1, 23), "browser-1234", address) != day1


def test_report_validation() -> None:
    ok = ReportIn.model_validate({"category": "website", "region": " id-jk ", "text": "502\x07"})
    assert ok.region == "ID-JK" and ok.text == "502"
    for bad in (
        {"category": "coffee"},
        {"category": 5},
        {},
        {"category": "app", "text": "x" * 281},
        {"category": "app", "region": "Jakarta"},
        {"category": "app", "extra": 1},
    ):
        with pytest.raises(ValidationError):
            ReportIn.model_validate(bad)


def test_error_texts_fold_together() -> None:
    a = normalise_text("Error 502: Bad Gateway (Ray ID: 8f2a3b4c5d6e7f80)")
    b = normalise_text("error 502 - bad gateway  ray id 90aa11bb22cc33dd")
    assert a == b == "error 502 bad gateway ray id"
    assert normalise_text("   ") is None


def test_report_ids_grow_with_time_and_do_not_repeat() -> None:
    start = datetime(2025, 1, 23, 11, 0, tzinfo=UTC)
    ids = [report_id(start + timedelta(milliseconds=k)) for k in range(0, 5000, 7)]
    same_ms = [report_id(start) for _ in range(1000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert len(set(same_ms)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids + same_ms)
