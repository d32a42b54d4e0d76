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
from collections.abc import Sequence
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
    url = urlsplit(text)
    project = urlsplit(project_url)
    if (url.scheme, url.netloc.lower()) != (project.scheme, project.netloc.lower()):
        return ForeignReference(raw, f"host {url.netloc} is not this project ({project.netloc})")
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
        raw, style, unquote(match.group("bucket")), unquote(match.group("path")), url.query
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
    reference: ObjectReference, bucket: str, path: str, *, fallback_style: str, project_url: str
) -> str:
    """The new text for REFERENCE once its object lives at BUCKET/PATH.

    URL forms keep their form (and a render URL its query); a signed URL becomes the
    configured fallback style; `bucket/path` and bare paths become `bucket/path`.
    """
    if reference.style is ReferenceStyle.SIGNED_URL:
        return format_reference(bucket, path, fallback_style, project_url=project_url)
    if reference.style in URL_STYLES:
        text = format_reference(bucket, path, reference.style, project_url=project_url)
        return f"{text}?{reference.query}" if reference.query else text
    return format_reference(bucket, path, ReferenceStyle.BUCKET_PATH, project_url=project_url)


# The Storage API accepts only these characters in an object key (anything else is a 400
# InvalidKey), so destination names are folded into this set.
_KEY_CHARACTERS = re.compile(r"[^A-Za-z0-9_!.*'() &$=@;:+,?-]")


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
