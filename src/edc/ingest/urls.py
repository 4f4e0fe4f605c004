"""`url` values: absolute http(s) URLs with a valid host, stored with a lower-case ASCII host."""

import ipaddress
import re
import unicodedata
from encodings import idna
from functools import lru_cache

from edc.ingest._text import show

MAX_URL_LENGTH = 2048
MAX_HOST_LENGTH = 253
SCHEMES = ("http", "https")

# Whitespace (str.isspace) and C0/C1 controls are never part of a URL one can copy and paste.
_BAD_CHAR = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
# scheme ":" and, when present, "//" authority; path, query and fragment follow untouched.
_START = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(?://([^/?#]*))?", re.ASCII)
# Lower-case ASCII host names; "_" is not RFC 1123 but is common in real host names.
_ASCII_HOST = re.compile(r"(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}\.?", re.ASCII)
_HOST_CHAR = re.compile(r"[^a-z0-9_.-]", re.ASCII)
# Already in stored form: lower-case scheme and host, no port, printable ASCII after the host.
_PLAIN_URL = re.compile(
    r"https?://((?:[a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63})(?:[/?#][!-~]*)?", re.ASCII
)


def normalize_url(raw: str) -> str:
    """Return the URL to store, or raise ValueError with a short reason a person can act on."""
    plain = _PLAIN_URL.fullmatch(raw)
    if plain is not None and len(raw) <= MAX_URL_LENGTH:
        host = plain.group(1)
        # Numeric and punycode hosts need the checks below.
        if len(host) <= MAX_HOST_LENGTH and not host[-1].isdigit() and "xn--" not in host:
            return raw
    url = raw.strip()
    if not url:
        raise ValueError("URL is empty")
    bad = _BAD_CHAR.search(url)
    if bad is not None:
        raise ValueError(_bad_char_reason(bad.group()))
    start = _START.match(url)
    if start is None:
        raise ValueError("URL is relative; it must start with http:// or https://")
    scheme = start.group(1).lower()
    if scheme not in SCHEMES:
        raise ValueError(f"scheme {show(scheme)} is not http or https")
    authority = start.group(2)
    if not authority:
        raise ValueError("URL has no host")
    stored = f"{scheme}://{_normalize_authority(authority)}{url[start.end() :]}"
    if len(stored) > MAX_URL_LENGTH:
        raise ValueError(f"URL is longer than {MAX_URL_LENGTH} characters")
    return stored


def _bad_char_reason(char: str) -> str:
    if char in " \t\r\n" or unicodedata.category(char) in ("Zs", "Zl", "Zp"):
        return "URL contains whitespace"
    return f"URL contains control character U+{ord(char):04X}"


def _normalize_authority(authority: str) -> str:
    """Host lower-cased and in ASCII form; a port is checked and kept as written."""
    if "@" in authority:
        # `http://bank.example@evil.example/` shows one host and opens another.
        raise ValueError("URL has a user name or password before the host")
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise ValueError(f"host {show(authority)} has no closing ']'")
        host = "[" + _normalize_ipv6(authority[1:end]) + "]"
        rest = authority[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"host {show(authority)} has text after its closing ']'")
        has_port, port = bool(rest), rest[1:]
    else:
        name, colon, port = authority.rpartition(":")
        has_port = bool(colon)
        if not has_port:
            name, port = authority, ""
        host = normalize_host(name)
    if not has_port:
        return host
    if not (port.isascii() and port.isdigit() and 0 < int(port) <= 65535):
        raise ValueError(f"port {show(port)} is not a number from 1 to 65535")
    return f"{host}:{port}"


def _normalize_ipv6(text: str) -> str:
    """Return an IPv6 literal in its canonical (RFC 5952) lower-case form."""
    if "%" in text:
        raise ValueError(f"IPv6 address {show(text)} has a zone id, which has no meaning here")
    try:
        return str(ipaddress.IPv6Address(text))
    except ipaddress.AddressValueError:
        raise ValueError(f"{show('[' + text + ']')} is not a valid IPv6 address") from None


@lru_cache(maxsize=4096)
def normalize_host(host: str) -> str:
    """Return a registered name or IPv4 address lower-cased in ASCII (IDNA 2003) form.

    Cached because a request list usually repeats a few hosts many times.
    """
    if not host:
        raise ValueError("URL has no host")
    ascii_host = host.lower()
    if not ascii_host.isascii():
        try:
            ascii_host = ascii_host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"host {show(host)} is not a valid internationalised name") from exc
    if len(ascii_host) > MAX_HOST_LENGTH:
        raise ValueError(f"host is longer than {MAX_HOST_LENGTH} characters")
    if not _ASCII_HOST.fullmatch(ascii_host):
        raise ValueError(_host_reason(host, ascii_host))
    if "xn--" in ascii_host:
        _check_punycode(host, ascii_host)
    if ascii_host.rstrip(".").rpartition(".")[2].isdigit():
        _check_ipv4(ascii_host)
    return ascii_host


def _host_reason(host: str, ascii_host: str) -> str:
    bad = _HOST_CHAR.search(ascii_host)
    if bad is not None:
        return f"host {show(host)} contains {bad.group()!r}, which a host name cannot contain"
    if len(max(ascii_host.split("."), key=len)) > 63:
        return f"host {show(host)} has a label longer than 63 characters"
    return f"host {show(host)} has an empty label (two dots in a row, or a leading dot)"


def _check_punycode(host: str, ascii_host: str) -> None:
    for label in ascii_host.split("."):
        if label.startswith("xn--"):
            try:
                idna.ToUnicode(label)
            except UnicodeError:
                raise ValueError(
                    f"host {show(host)} has an invalid internationalised label {show(label)}"
                ) from None


def _check_ipv4(ascii_host: str) -> None:
    """A name whose last label is numeric is an IPv4 address to browsers, so it must be one."""
    try:
        ipaddress.IPv4Address(ascii_host.rstrip("."))
    except ipaddress.AddressValueError:
        raise ValueError(f"host {show(ascii_host)} is not a valid IPv4 address") from None
