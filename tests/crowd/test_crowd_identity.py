"""Reporter identity, client addresses behind proxies, validation and text normalisation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from ipaddress import ip_address, ip_network
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from pantau.crowd.identity import Hasher, Origin, Proxies, Tokens, network_of, origin
from pantau.crowd.ingest import report_id
from pantau.crowd.validate import Invalid, Malformed, decode_form, decode_report, normalise_text

PROXY = [ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8"), ip_network("fd00::/8")]


def at(text: str) -> Origin:
    return origin(ip_address(text))


def test_forwarded_for_is_believed_only_through_trusted_proxies() -> None:
    proxies = Proxies(PROXY)
    assert proxies.origin("127.0.0.1", "203.0.113.9") == at("203.0.113.9")
    # The peer is not a proxy: the header is the client's own claim, ignored.
    assert proxies.origin("198.51.100.7", "203.0.113.9") == at("198.51.100.7")
    # Two trusted hops; the client forged a leftmost entry that must not be used.
    chain = "1.2.3.4, 203.0.113.9, 10.1.1.1"
    assert proxies.origin("127.0.0.1", chain) == at("203.0.113.9")
    assert proxies.origin("127.0.0.1", "1.2.3.4, 203.0.113.9 ,, 10.1.1.1,") == at("203.0.113.9")
    assert proxies.origin("127.0.0.1", "garbage") == at("127.0.0.1")
    assert proxies.origin("127.0.0.1", "203.0.113.09") == at("127.0.0.1")  # not a dotted quad
    assert proxies.origin("127.0.0.1", None) == at("127.0.0.1")
    assert proxies.origin(None, "203.0.113.9") is None
    assert proxies.origin("nonsense", "203.0.113.9") is None
    # IPv6 proxies and clients, and an IPv4 client written the IPv6 way.
    assert proxies.origin("fd00::1", "2001:db8:1:2::5") == at("2001:db8:1:2::5")
    assert proxies.origin("127.0.0.1", "2001:DB8:1:2:0::5") == at("2001:db8:1:2::5")
    assert proxies.origin("127.0.0.1", "::ffff:203.0.113.77").network == "203.0.113.0/24"
    assert proxies.origin("2001:db8::1", "203.0.113.9") == at("2001:db8::1")


def test_a_single_forwarded_hop_is_read_as_the_list_would_be() -> None:
    # One hop takes a short cut (no list, no trust check of the hop): same answers.
    proxies = Proxies(PROXY)
    assert proxies.origin("127.0.0.1", " 203.0.113.9 ") == at("203.0.113.9")
    assert proxies.origin("127.0.0.1", "   ") == at("127.0.0.1")
    # The only hop is itself a trusted proxy: nothing left of it, so it is the origin.
    assert proxies.origin("127.0.0.1", "10.1.1.1") == at("10.1.1.1")
    assert proxies.origin("127.0.0.1", "fd00::7") == at("fd00::7")
    assert proxies.origin("10.0.0.1", "2001:db8::9") == at("2001:db8::9")
    assert proxies.origin("198.51.100.7", "garbage") == at("198.51.100.7")


def test_networks_are_slash_24_and_slash_48() -> None:
    assert str(network_of(ip_address("203.0.113.77"))) == "203.0.113.0/24"
    assert str(network_of(ip_address("2001:db8:1:2::5"))) == "2001:db8:1::/48"
    assert str(network_of(ip_address("::ffff:203.0.113.77"))) == "203.0.113.0/24"
    for text in ("203.0.113.77", "2001:db8:1:2::5"):
        where = origin(ip_address(text))
        assert where == Origin(str(ip_address(text)), str(network_of(ip_address(text))))
    # An IPv4 client on a dual-stack socket is that IPv4 client.
    assert origin(ip_address("::ffff:203.0.113.77")) == at("203.0.113.77")


def test_a_hop_written_with_its_port_is_the_address() -> None:
    # As some load balancers write X-Forwarded-For; else every client is the proxy.
    proxies = Proxies(PROXY)
    assert proxies.origin("127.0.0.1", "203.0.113.9:51234") == at("203.0.113.9")
    assert proxies.origin("127.0.0.1", "198.51.100.1:80, 10.1.1.1:443") == at("198.51.100.1")
    assert proxies.origin("127.0.0.1", "[2001:db8::1]:443") == at("2001:db8::1")
    assert proxies.origin("127.0.0.1", "[2001:db8::1]") == at("2001:db8::1")
    for malformed in ("203.0.113.9:", "203.0.113.9:x", "[2001:db8::1", "[2001:db8::1]x",
                      "[nope]:1", "host:80"):
        assert proxies.origin("127.0.0.1", malformed) == at("127.0.0.1"), malformed


def test_a_proxy_seen_through_a_dual_stack_socket_is_still_trusted() -> None:
    # With PANTAU_HOST=:: the proxy 127.0.0.1 connects as ::ffff:127.0.0.1.
    proxies = Proxies(PROXY)
    assert proxies.origin("::ffff:127.0.0.1", "203.0.113.9") == at("203.0.113.9")
    assert proxies.origin("::ffff:127.0.0.1", "198.51.100.1, 10.1.1.1") == at("198.51.100.1")
    assert proxies.origin("::ffff:198.51.100.7", "203.0.113.9") == at("198.51.100.7")


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
    # The gate's keys are the same every day (kept only for its 30 minutes).
    assert (day2.gate_reporter, day2.gate_network) == (day1.gate_reporter, day1.gate_network)
    assert day1.gate_reporter not in (day1.reporter, day2.reporter)


def test_the_hashes_day_is_the_crowds_day() -> None:
    hasher = Hasher(b"secret", ZoneInfo("Asia/Jakarta"))
    for moment, day in ((datetime(2025, 1, 23, 16, 59, 59, tzinfo=UTC), date(2025, 1, 23)),
                        (datetime(2025, 1, 23, 17, 0, tzinfo=UTC), date(2025, 1, 24)),
                        (datetime(2025, 1, 24, 1, 0, tzinfo=UTC), date(2025, 1, 24)),
                        (datetime(2025, 1, 23, 12, 0, tzinfo=UTC), date(2025, 1, 23))):
        assert hasher.day_of(moment, moment.timestamp()) == day, moment


def test_tokens_are_never_handed_out_twice() -> None:
    pool = Tokens()
    taken = [pool.take(n) for n in [10, 16, 7] * 400]  # over 4 KiB: the pool is refilled
    assert [len(t) for t in taken] == [10, 16, 7] * 400
    assert len(set(taken)) == len(taken)
    assert len(set(b"".join(taken))) > 200  # random bytes, not a constant


def test_report_validation() -> None:
    ok = decode_report(b'{"category": "website", "region": " id-jk ", "text": " 502\\u0007 "}')
    assert ok.category == "website" and ok.region == "ID-JK" and ok.text == "502"
    bare = decode_report(b'{"category": "app", "region": " ", "text": "\\u0000"}')
    assert bare.region is None and bare.text is None
    assert decode_report(b'{"category": "app", "text": "%b"}' % (b"x" * 280)).text == "x" * 280
    # What must fit is the text kept, once its control characters are gone.
    kept = decode_report(b'{"category": "app", "text": "%b\\u0007"}' % (b"x" * 280))
    assert kept.text == "x" * 280
    assert decode_report(b'{"category": "app", "region": "sg"}').region == "SG"
    for body, field in (
        (b'{"category": "coffee"}', "category"),
        (b'{"category": 5}', "category"),
        (b"{}", "category"),
        (b'{"category": "app", "text": "%b"}' % (b"x" * 281), "text"),
        (b'{"category": "app", "text": 5}', "text"),
        (b'{"category": "app", "region": "Jakarta"}', "region"),
        # Codes left for private use, which name no place ("unknown" to CDNs).
        (b'{"category": "app", "region": "XX"}', "region"),
        (b'{"category": "app", "region": "ZZ-AB"}', "region"),
        (b'{"category": "app", "region": "QM"}', "region"),
        (b'{"category": "app", "extra": 1}', "extra"),
        (b'["website"]', ""),
    ):
        with pytest.raises(Invalid) as caught:
            decode_report(body)
        assert caught.value.field == field, body
        assert caught.value.unknown == (field == "extra"), body
    for body, byte, utf8 in ((b"{not json", 1, False), (b'{"category": "\xff"}', 14, True)):
        with pytest.raises(Malformed) as bad:
            decode_report(body)
        assert (bad.value.at, bad.value.utf8) == (byte, utf8), body


@pytest.mark.parametrize(("sent", "kept"), [
    # Line breaks and tabs are spaces between words, not glue.
    ("Error 502\\nBad Gateway", "Error 502 Bad Gateway"),
    ("Error\\t502 \\r\\n\\n Bad", "Error 502 Bad"),
    # Joiners belong to the text: a family emoji, a Persian word.
    ("\\ud83d\\udc68\\u200d\\ud83d\\udc67", "\U0001f468\u200d\U0001f467"),
    ("\\u0645\\u06cc\\u200c\\u062e\\u0648\\u0627\\u0647\\u0645",
     "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
    # Text shown in another order than it is stored, and a byte-order mark: gone.
    ("login \\u202egnp.exe\\u202c ok", "login gnp.exe ok"),
    ("\\ufeff502", "502"),
    # Invisible breaks inside a word, copied from a web page: gone, so the text folds
    # with the same error typed; a line separator is a space.
    ("Bad Gate\\u00adway", "Bad Gateway"),
    ("Bad Gate\\u200bway", "Bad Gateway"),
    ("Error 502\\u2028Bad Gateway", "Error 502 Bad Gateway"),
    ("a\\n\\u202e\\nb", "a b"),
])
def test_a_reports_text_keeps_its_words_apart_and_its_joiners(sent: str, kept: str) -> None:
    body = b'{"category": "app", "text": "%b"}' % sent.encode()
    assert decode_report(body).text == kept
    assert decode_form(b"category=app&text=" + quote(kept.replace(" ", "\n")).encode()).text \
        == kept


def test_a_reports_text_is_measured_in_the_characters_seen() -> None:
    # 280 letters with a combining accent each fit (they are 280 "é"); 281 do not.
    accented = "e\u0301"
    assert decode_report(('{"category": "app", "text": "%s"}' % (accented * 280)).encode()
                         ).text == "\u00e9" * 280
    with pytest.raises(Invalid):
        decode_report(('{"category": "app", "text": "%s"}' % (accented * 281)).encode())


@pytest.mark.parametrize(("region", "known"), [
    ("ID-JK", True), ("GB-LND", True), ("us-ca", True), ("MY", True),
    ("ID-ZZ", False), ("ID-99", False), ("ID-JKT", False), ("UK-LND", False), ("EU", False),
])
def test_a_region_must_be_one_iso_3166_names(region: str, known: bool) -> None:
    body = b'{"category": "app", "region": "%b"}' % region.encode()
    if known:
        assert decode_report(body).region == region.upper()
    else:
        with pytest.raises(Invalid) as caught:
            decode_report(body)
        assert caught.value.field == "region"


def test_a_field_given_twice_is_read_as_its_last_in_json_and_in_a_form() -> None:
    assert decode_report(b'{"category": "app", "category": "login"}').category == "login"
    assert decode_form(b"category=app&text=a&category=login").category == "login"


def test_error_texts_fold_together() -> None:
    a = normalise_text("Error 502: Bad Gateway (Ray ID: 8f2a3b4c5d6e7f80)")
    b = normalise_text("error 502 - bad gateway  ray id 90aa11bb22cc33dd")
    assert a == b == "error 502 bad gateway ray id"
    assert normalise_text("   ") is None


def test_report_ids_grow_with_time_and_do_not_repeat() -> None:
    start = datetime(2025, 1, 23, 11, 0, tzinfo=UTC).timestamp()
    ids = [report_id(start + k / 1000) for k in range(0, 5000, 7)]
    same_ms = [report_id(start) for _ in range(1000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert len(set(same_ms)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids + same_ms)


def test_a_json_body_may_start_with_a_byte_order_mark() -> None:
    bom = b"\xef\xbb\xbf"
    assert decode_report(bom + b'{"category": "app"}').category == "app"
    # Bytes are still counted from the start of the body.
    with pytest.raises(Malformed) as bad:
        decode_report(bom + b"{not json")
    with pytest.raises(Malformed) as plain:
        decode_report(b"{not json")
    assert plain.value.at is not None and bad.value.at == plain.value.at + 3
