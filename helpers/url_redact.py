"""Credentials in database URLs: which secrets a URL holds, the URL as a message may show it, and a driver's message
with those secrets replaced. Pure text functions (no imports of the workbook); helpers.errors keeps every name
importable from it (README: ``helpers.errors.redact_url``) and raises its coded url_password with them."""
from __future__ import annotations

import re

#: Query parameters of a database URL whose value is a secret (psycopg's ?password=..., cloud warehouses' keys).
SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|credential", re.IGNORECASE)
#: Characters a URL's password cannot hold as they are: URL parsers read them as the end of the password
#: (SQLAlchemy stops at the first @, Python's urllib at the first / ? #), so another host or password is used.
URL_PASSWORD_BREAKERS = frozenset("@/?#")


def _url_userinfo(url: str) -> tuple[str, str, str | None, str] | None:
    """(scheme, user, password or None, the rest after the userinfo) of ``scheme://user:password@rest``.

    The userinfo ends at the LAST '@' after '://', so a password holding '@', ':' or '/' as they are
    is still taken whole (never shown in part); None when `url` has no '://' or no '@'."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at:
        return None
    user, colon, password = userinfo.partition(":")
    return scheme, user, (password if colon else None), host


def url_secrets(url: str) -> list[str]:
    """The secrets written in a database URL: its password (see :func:`redact_url`) and the values of its query
    parameters named like a password, key or token; longest first (for replacing them in a message)."""
    out = []
    parts = _url_userinfo(url)
    if parts and parts[2]:
        out.append(parts[2])
    query = (parts[3] if parts else url).partition("?")[2]
    for pair in re.split(r"[&;]", query):
        name, eq, value = pair.partition("=")
        if eq and value and SECRET_PARAM.search(name):
            out.append(value)
    return sorted(set(out), key=len, reverse=True)


def redact_url(url: str) -> str:
    """`url` as a message may show it: the password and secret query values replaced by ``***``.

    ``postgresql://ana:p@ss/w:rd@db:5432/crm?sslkey=k`` -> ``postgresql://ana:***@db:5432/crm?sslkey=***``:
    the password runs from the user name's ':' to the last '@' (so no part of a password holding '@ : /'
    is shown, whatever a URL parser makes of it)."""
    parts = _url_userinfo(url)
    if parts:
        scheme, user, password, host = parts
        url = f"{scheme}://{user}{'' if password is None else ':***'}@{host}"
    head, q, query = url.partition("?")
    if not q:
        return url
    pairs = [(name, eq, "***" if eq and value and SECRET_PARAM.search(name) else value)
             for name, eq, value in (pair.partition("=") for pair in query.split("&"))]
    return head + q + "&".join(f"{n}{e}{v}" for n, e, v in pairs)


#: Shorter secrets are not replaced in text (:func:`scrub`): one or two characters occur in any message, so finding
#: them there says nothing about the secret, and replacing them would garble the message.
SCRUB_MIN_LENGTH = 3


def scrub(text: str, secrets: list[str], replacement: str = "***") -> str:
    """`text` with every secret of :data:`SCRUB_MIN_LENGTH` or more characters (and its percent-decoded forms)
    replaced: for a driver's message, which may echo what it was given."""
    from urllib.parse import unquote, unquote_plus

    for secret in secrets:
        for form in dict.fromkeys((secret, unquote(secret), unquote_plus(secret))):
            if len(form) >= SCRUB_MIN_LENGTH:
                text = text.replace(form, replacement)
    return text
