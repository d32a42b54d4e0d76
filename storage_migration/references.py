"""File references as chat rows hold them: parse every Supabase Storage form, and write them back.

A reference may be a public, authenticated, signed or render URL of this project, a plain
`bucket/path`, or a bare path. URLs of other hosts or projects are recognised and left alone.
Object names are stored decoded (as Storage keeps them); URLs carry them percent-encoded.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, unquote, urlsplit


class ReferenceStyle(StrEnum):
    PUBLIC_URL = "public_url"
    AUTHENTICATED_URL = "authenticated_url"
    SIGNED_URL = "signed_url"
    RENDER_URL = "render_url"
    OBJECT_URL = "object_url"
    BUCKET_PATH = "bucket_path"
    BARE_PATH = "path"


# The URL forms keep the same key (bucket + object name) and can be rewritten in place; a
# signed URL's token is bound to the old path, so it can only be replaced, never edited.
URL_STYLES = frozenset(
    {ReferenceStyle.PUBLIC_URL, ReferenceStyle.AUTHENTICATED_URL, ReferenceStyle.SIGNED_URL,
     ReferenceStyle.RENDER_URL, ReferenceStyle.OBJECT_URL}
)

_OBJECT_ROUTE = re.compile(
    r"^/storage/v1/(?:(?P<render>render/image)/(?P<render_kind>public|authenticated|sign)"
    r"|object(?:/(?P<kind>public|authenticated|sign))?)/(?P<bucket>[^/]+)/(?P<path>.+)$"
)


@dataclass(frozen=True)
class ObjectReference:
    """A reference that names an object of this project."""

    raw: str
    style: ReferenceStyle
    bucket: str | None
    path: str
    query: str = ""
    fragment: str = ""
    # A URL's route: public, authenticated or sign ("" for the bare object route and non-URLs).
    access: str = ""

    @property
    def signed(self) -> bool:
        return self.access == "sign"

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.bucket, self.path)


@dataclass(frozen=True)
class ForeignReference:
    """A reference this tool must leave alone (another host, another project, not storage)."""

    raw: str
    reason: str


Reference = ObjectReference | ForeignReference


def parse_reference(raw: str, *, project_url: str, known_buckets: Sequence[str]) -> Reference | None:
    """Classify RAW; None when it is empty. Bare paths carry bucket None (decided by context)."""
    text = raw.strip()
    if not text:
        return None
    if "://" in text:
        return _parse_url(raw, text, project_url)
    if text.startswith(("data:", "blob:")):
        return ForeignReference(raw, "inline data, not a storage object")
    path, _, query = text.partition("?")
    path = unquote(path).lstrip("/")
    first, _, rest = path.partition("/")
    if first in known_buckets and rest:
        return ObjectReference(raw, ReferenceStyle.BUCKET_PATH, first, rest, query)
    return ObjectReference(raw, ReferenceStyle.BARE_PATH, None, path, query)


def _parse_url(raw: str, text: str, project_url: str) -> Reference:
    try:
        url = urlsplit(text)
    except ValueError as exc:
        # e.g. an unbalanced IPv6 bracket: not a URL anything could fetch.
        return ForeignReference(raw, f"malformed URL ({exc})")
    project = urlsplit(project_url)
    if (url.scheme, url.netloc.lower()) != (project.scheme, project.netloc.lower()):
        return ForeignReference(raw, f"host {shown(url.netloc)} is not this project ({project.netloc})")
    route = url.path[len(project.path.rstrip("/")):] if project.path.strip("/") else url.path
    match = _OBJECT_ROUTE.match(route)
    if not match:
        return ForeignReference(raw, "URL of this project that is not a storage object route")
    if match.group("render"):
        style = ReferenceStyle.RENDER_URL
    else:
        style = {
            "public": ReferenceStyle.PUBLIC_URL,
            "authenticated": ReferenceStyle.AUTHENTICATED_URL,
            "sign": ReferenceStyle.SIGNED_URL,
            None: ReferenceStyle.OBJECT_URL,
        }[match.group("kind")]
    return ObjectReference(
        raw, style, unquote(match.group("bucket")), unquote(match.group("path")), url.query, url.fragment,
        match.group("kind") or match.group("render_kind") or "",
    )


def format_reference(
    bucket: str, path: str, style: ReferenceStyle | str, *, project_url: str
) -> str:
    """A reference to BUCKET/PATH in STYLE; signed URLs are never produced (they need a token)."""
    chosen = ReferenceStyle(style)
    if chosen is ReferenceStyle.BUCKET_PATH:
        return f"{bucket}/{path}"
    if chosen is ReferenceStyle.BARE_PATH:
        return path
    if chosen is ReferenceStyle.SIGNED_URL:
        raise ValueError("a signed URL cannot be written without signing it; choose another style")
    kind = {
        ReferenceStyle.PUBLIC_URL: "object/public",
        ReferenceStyle.AUTHENTICATED_URL: "object/authenticated",
        ReferenceStyle.OBJECT_URL: "object",
        ReferenceStyle.RENDER_URL: "render/image/public",
    }[chosen]
    encoded = quote(f"{bucket}/{path}", safe="/")
    return f"{project_url.rstrip('/')}/storage/v1/{kind}/{encoded}"


def rewritten_reference(
    reference: ObjectReference, bucket: str, path: str, *, forms: Mapping[str, str], project_url: str
) -> str:
    """The new text for REFERENCE once its object lives at BUCKET/PATH (a private bucket).

    FORMS names, by the form REFERENCE was found in, the form it is written in: `bucket_path`
    (the default for any form not named) or `authenticated_url`. An authenticated URL keeps the
    query and fragment of a URL it replaces (a render URL's size, a download flag) but never a
    signed URL's token: a signed URL is replaced, never edited. A public URL is never written.
    """
    chosen = ReferenceStyle(forms.get(reference.style.value, ReferenceStyle.BUCKET_PATH.value))
    if chosen is ReferenceStyle.BUCKET_PATH:
        return format_reference(bucket, path, chosen, project_url=project_url)
    if chosen is not ReferenceStyle.AUTHENTICATED_URL:
        raise ValueError(
            f"a reference into a private bucket is a bucket path or an authenticated URL, not {chosen}"
        )
    encoded = quote(f"{bucket}/{path}", safe="/")
    rendered = reference.style is ReferenceStyle.RENDER_URL
    route = "render/image/authenticated" if rendered else "object/authenticated"
    text = f"{project_url.rstrip('/')}/storage/v1/{route}/{encoded}"
    if not reference.signed and reference.style in URL_STYLES:
        text += f"?{reference.query}" if reference.query else ""
        text += f"#{reference.fragment}" if reference.fragment else ""
    return text


def works_for_private_bucket(reference: ObjectReference) -> bool:
    """Whether REFERENCE's form can fetch from a private bucket: public URLs cannot (the Storage
    API answers them 400 "Bucket not found", for everyone)."""
    return reference.access != "public"


# How much of a long value output shows: a 100 KB URL printed whole costs the terminal's
# highlighter quadratic time (minutes) and tells the operator nothing more than its ends do.
SHOWN_HEAD, SHOWN_TAIL = 160, 40


def shown(text: str) -> str:
    """TEXT for output: whole when short, else its start and end around the count of what was cut."""
    if len(text) <= SHOWN_HEAD + SHOWN_TAIL + 40:
        return text
    cut = len(text) - SHOWN_HEAD - SHOWN_TAIL
    return f"{text[:SHOWN_HEAD]}…[{cut:,} characters]…{text[-SHOWN_TAIL:]}"


# The Storage API accepts only these characters in an object key (anything else is a 400
# InvalidKey: supabase/storage src/storage/limits.ts, VALID_OBJECT_KEY), so destination names are
# folded into this set. A legacy key outside it can be a copy's source, and listed and removed,
# but not read, inspected, signed or written through the API.
_KEY_CHARACTERS = re.compile(r"[^A-Za-z0-9_!.*'() &$=@;:+,?-]")
_API_KEY = re.compile(r"[A-Za-z0-9_/!.*'() &$=@;:+,?-]+")


def api_key(name: str) -> bool:
    """Whether the Storage API can read and write an object named NAME."""
    return _API_KEY.fullmatch(name) is not None


def safe_file_name(name: str) -> str:
    """The last path segment of NAME as a key the Storage API accepts, unable to leave its folder.

    Accents are dropped (café → cafe), other characters outside the API's key alphabet become
    `_`, and dot segments or leading dots cannot climb out of or hide in the folder.
    """
    segments = [part for part in name.replace("\\", "/").split("/") if part not in ("", ".", "..")]
    leaf = unicodedata.normalize("NFKD", segments[-1] if segments else "")
    leaf = "".join(char for char in leaf if not unicodedata.combining(char))
    leaf = _KEY_CHARACTERS.sub("_", leaf).strip()
    leaf = leaf.lstrip(".") or "file"
    return leaf[:200]


def disambiguated_name(name: str, source_key: str) -> str:
    """NAME made unique for a second, different file of that name in one folder: stable per source."""
    stem, ext = posixpath.splitext(name)
    digest = hashlib.sha256(source_key.encode()).hexdigest()[:8]
    return f"{stem}-{digest}{ext}"
