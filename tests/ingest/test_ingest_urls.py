"""normalize_url: what is stored for accepted URLs and the reason given for rejected ones."""

import re

import pytest

from edc.ingest import MAX_URL_LENGTH, normalize_url


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("https://example.com/", "https://example.com/"),
        ("http://example.com", "http://example.com"),
        ("\t https://example.com/x \r\n", "https://example.com/x"),
        (
            "HTTP://WWW.EXAMPLE.COM/Path/UPPER?Q=A#Frag",
            "http://www.example.com/Path/UPPER?Q=A#Frag",
        ),
        ("HtTpS://Example.Com", "https://example.com"),
        ("http://bücher.example/путь", "http://xn--bcher-kva.example/путь"),
        ("http://BÜCHER.example/", "http://xn--bcher-kva.example/"),
        ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
        ("https://XN--BCHER-KVA.example/", "https://xn--bcher-kva.example/"),
        ("http://例え.テスト/", "http://xn--r8jz45g.xn--zckzah/"),
        ("http://ｅｘａｍｐｌｅ.com/", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("http://example.com:1/", "http://example.com:1/"),
        ("http://example.com:65535/", "http://example.com:65535/"),
        ("http://127.0.0.1/", "http://127.0.0.1/"),
        ("http://127.0.0.1:80/", "http://127.0.0.1:80/"),
        ("http://[2001:DB8:0:0::1]/", "http://[2001:db8::1]/"),
        ("http://[::1]:8443/x", "http://[::1]:8443/x"),
        ("http://my_host.example/", "http://my_host.example/"),
        ("http://example.com./", "http://example.com./"),
        ("http://localhost/", "http://localhost/"),
        ("https://example.com/%7Euser/?a=%20b&c=<d>", "https://example.com/%7Euser/?a=%20b&c=<d>"),
        ("https://example.com?q", "https://example.com?q"),
        ("https://example.com#top", "https://example.com#top"),
        ("https://example.com/über?ä=ö", "https://example.com/über?ä=ö"),
    ],
)
def test_accepted_urls_are_stored_normalized(raw: str, stored: str) -> None:
    assert normalize_url(raw) == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "URL is empty"),
        ("   ", "URL is empty"),
        ("javascript:alert(1)", "scheme 'javascript' is not http or https"),
        ("JavaScript:alert(1)", "scheme 'javascript' is not http or https"),
        ("file:///etc/passwd", "scheme 'file' is not http or https"),
        ("ftp://example.com/", "scheme 'ftp' is not http or https"),
        ("data:text/html,hi", "scheme 'data' is not http or https"),
        ("example.com/path", "URL is relative"),
        ("/path/only", "URL is relative"),
        ("//example.com/x", "URL is relative"),
        ("http:example.com", "URL has no host"),
        ("http:/example.com", "URL has no host"),
        ("http://", "URL has no host"),
        ("http:///path", "URL has no host"),
        ("http://:80/", "URL has no host"),
        ("http://exa mple.com/", "URL contains whitespace"),
        ("http://example.com/a b", "URL contains whitespace"),
        ("http://example.com/a\u00a0b", "URL contains whitespace"),
        ("http://example.com/a\u3000b", "URL contains whitespace"),
        ("http://example.com/a\tb", "URL contains whitespace"),
        ("http://example.com/a\x00b", "control character U+0000"),
        ("http://example.com/a\x7fb", "control character U+007F"),
        ("http://example.com/a\x85b", "control character U+0085"),
        ("http://example.com:0/", "port '0' is not a number from 1 to 65535"),
        ("http://example.com:65536/", "port '65536' is not a number"),
        ("http://example.com:http/", "port 'http' is not a number"),
        ("http://example.com:/", "port '' is not a number"),
        ("http://example.com:-1/", "port '-1' is not a number"),
        ("http://example.com:１/", "is not a number"),
        ("http://user:pw@example.com/", "user name or password"),
        ("http://bank.example@evil.example/", "user name or password"),
        ("http://exa$mple.com/", "contains '$'"),
        ("http://exa%41mple.com/", "contains '%'"),
        ("http://example..com/", "empty label"),
        ("http://.example.com/", "empty label"),
        ("http://" + "a" * 64 + ".com/", "label longer than 63"),
        ("http://" + ("a" * 60 + ".") * 5 + "com/", "host is longer than 253"),
        ("http://xn--zz.example/", "invalid internationalised label 'xn--zz'"),
        ("http://xn--a-ecp.example/", "invalid internationalised label"),
        ("http://bü" + "c" * 70 + ".example/", "not a valid internationalised name"),
        ("http://b\u00fc!cher.example/", "contains '!'"),
        ("http://256.1.1.1/", "is not a valid IPv4 address"),
        ("http://1.2.3/", "is not a valid IPv4 address"),
        ("http://[::1/", "no closing ']'"),
        ("http://[::1]x/", "text after its closing ']'"),
        ("http://[::g]/", "is not a valid IPv6 address"),
        ("http://[]/", "is not a valid IPv6 address"),
        ("http://[fe80::1%25eth0]/", "zone id"),
        ("http://[::1]:99999/", "port '99999'"),
    ],
)
def test_rejected_urls_give_a_short_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        normalize_url(raw)


def test_length_limit_applies_to_the_stored_form() -> None:
    prefix = "https://example.com/"
    at_limit = prefix + "a" * (MAX_URL_LENGTH - len(prefix))
    assert len(at_limit) == 2048
    assert normalize_url(at_limit) == at_limit
    with pytest.raises(ValueError, match="URL is longer than 2048 characters"):
        normalize_url(at_limit + "a")
    # Trimmed whitespace does not count; a punycode host grows and does count.
    assert normalize_url(f"  {at_limit}  ") == at_limit
    idn = "http://bücher.example/"
    grown = idn + "a" * (MAX_URL_LENGTH - len(idn))
    assert len(grown) == 2048
    with pytest.raises(ValueError, match="longer than 2048"):
        normalize_url(grown)
