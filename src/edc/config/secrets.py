"""Masking of database passwords so that none is ever printed, logged or put in an error."""

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_USERINFO_PASSWORD = re.compile(r"(?P<prefix>://[^:/@?#]*:)(?P<password>[^@/?#]*)@")
_PASSWORD_PARAM = re.compile(r"(?i)(?P<prefix>[?&;\s](?:password|passwd)=)(?P<password>[^&;\s]*)")


def mask_url(url: str) -> str:
    """Return `url` with any password replaced by `***`, even when the URL does not parse."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        parsed = None
    if parsed is not None and parsed.password is None and "password" not in parsed.query:
        return url
    masked = _USERINFO_PASSWORD.sub(r"\g<prefix>***@", url)
    return _PASSWORD_PARAM.sub(r"\g<prefix>***", masked)


def scrub(text: str, *secrets: str | None) -> str:
    """Remove every given secret, and any password in a URL, from free text such as an error."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _PASSWORD_PARAM.sub(r"\g<prefix>***", _USERINFO_PASSWORD.sub(r"\g<prefix>***@", text))
