"""The Supabase Storage HTTP API as a backend: storage3 for the plain verbs, httpx for cross-bucket moves.

storage3's own move/copy do not send `destinationBucket`, so those two go straight to
`/object/move` and `/object/copy`. The Storage API answers most errors with HTTP 400 and the
real status in the JSON body's `statusCode` (404 missing, 409 exists, 503 read-only...), so
errors are judged by that status: 5xx, 429 and timeouts are retried with backoff; 401 and 403
(a key the project does not accept, or row-level security refusing a key that is not the
service key) become a ConfigError naming the action and bucket, never the key. A key that is
not the service key is refused before any call (require_service_key): with the anon key the API
answers, but row-level security hides objects, so a run would plan on a wrong inventory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx
from consolidation.storage_migration.backends.base import Copied, CopyOrder, ObjectInfo, ObjectRefused
from consolidation.storage_migration.references import api_key
from storage3 import SyncStorageClient
from storage3.exceptions import StorageApiError
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from consolidation.core.errors import ConfigError, StorageUnreachable, UsageError

PAGE_SIZE = 1000
# Bytes per chunk of a streamed download: memory stays bounded whatever the object's size.
STREAM_CHUNK = 1 << 20
# What the Storage API (or the gateway before it) calls a refused key or a refusal by policy,
# whatever HTTP status carries it (older servers send 400 with these in the body).
_DENIED_STATUSES = frozenset({"401", "403"})
_DENIED_CODES = frozenset({"invalidjwt", "unauthorized", "accessdenied", "expiredtoken"})
_MISSING_CODES = frozenset({"not_found", "NoSuchKey"})
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
SERVICE_ROLE = "service_role"
# Supabase's newer opaque API keys: the secret key acts as service_role, the publishable as anon.
SECRET_KEY_PREFIX = "sb_secret_"
PUBLISHABLE_KEY_PREFIX = "sb_publishable_"
_KEY_HINT = (
    "set CONSOLIDATION_SERVICE_KEY to this project's service_role key (Project Settings > API keys: "
    "the service_role or sb_secret_ key, not the anon or publishable key): the storage phase reads "
    "every object, which only the service key may"
)


def key_claims(key: str) -> dict[str, Any] | None:
    """The claims of a JWT key as it carries them (not verified: the server does that), or None
    when KEY is not a JWT."""
    parts = key.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def require_service_key(key: str, *, now: float | None = None) -> None:
    """Refuse (UsageError, exit 2) a key that is not the service key, before any call is made.

    Judged on the key's own claims, never printed: a JWT must carry role service_role and not
    be expired; an opaque key must be a secret key (sb_secret_...)."""
    if key.startswith(SECRET_KEY_PREFIX):
        return
    if key.startswith(PUBLISHABLE_KEY_PREFIX):
        raise UsageError("CONSOLIDATION_SERVICE_KEY is a publishable key, not the service key",
                         hint=_KEY_HINT)
    claims = key_claims(key)
    if claims is None:
        raise UsageError("CONSOLIDATION_SERVICE_KEY is neither a JWT nor a Supabase secret key",
                         hint=_KEY_HINT)
    role = claims.get("role")
    if role != SERVICE_ROLE:
        shown_role = repr(role)[:40] if role is not None else "no role"
        raise UsageError(
            f"CONSOLIDATION_SERVICE_KEY carries role {shown_role}, not {SERVICE_ROLE}: "
            "row-level security would hide objects from it and the plan would be wrong",
            hint=_KEY_HINT,
        )
    expires = claims.get("exp")
    if isinstance(expires, int | float) and expires <= (time.time() if now is None else now):
        raise UsageError("CONSOLIDATION_SERVICE_KEY has expired", hint=_KEY_HINT)


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TimeoutException | httpx.TransportError):
        return True
    if isinstance(exc, StorageApiError):
        status = str(exc.status)
        return status.isdigit() and (int(status) >= 500 or int(status) == 429)
    return False


def api_error(response: httpx.Response) -> StorageApiError:
    """The error as storage3 raises it, with the status from the body when there is one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "message" in body:
        # Newer servers add `code` (AccessDenied, InvalidJWT...); a gateway sends only `message`.
        code = body.get("error") or body.get("code") or "InternalError"
        return StorageApiError(body["message"], code, body.get("statusCode") or response.status_code)
    return StorageApiError(response.text, "InternalError", response.status_code)


def denied(error: StorageApiError) -> bool:
    """Whether the Storage API refused the caller (its key, or row-level security), not the request."""
    code = re.sub(r"[\s_]", "", str(error.code)).lower()
    return str(error.status) in _DENIED_STATUSES or code in _DENIED_CODES


def refusal(error: StorageApiError, action: str, bucket: str, secret: str) -> ConfigError:
    """The ConfigError for a refused ACTION on BUCKET; the server's words, with SECRET (and any
    token) blanked out, never the key itself."""
    said = str(error.message).replace(secret, "[key]") if secret else str(error.message)
    said = _JWT.sub("[token]", said)[:200]
    return ConfigError(
        f"Storage API refused to {action} in bucket {bucket} (status {error.status}, {error.code}: {said})",
        hint="set CONSOLIDATION_SERVICE_KEY to this project's service_role key (not the anon key, not "
        "expired, from the project CONSOLIDATION_STORAGE_URL names): the service key bypasses row-level "
        "security, so a policy refusal also means the key is not it",
    )


def _object_info(bucket: str, name: str, metadata: dict[str, Any]) -> ObjectInfo:
    """An entry of the list route as ObjectInfo (the server's recorded size, ETag and type)."""
    return ObjectInfo(
        bucket=bucket,
        name=name,
        size=int(metadata.get("size") or 0),
        etag=(metadata.get("eTag") or "").strip('"') or None,
        content_type=metadata.get("mimetype"),
    )


_retrying = retry(
    retry=retry_if_exception(_transient),
    wait=wait_exponential(multiplier=0.2, max=5) + wait_random(0, 0.5),
    stop=stop_after_attempt(6),
    reraise=True,
)


def _body(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes(STREAM_CHUNK)
    finally:
        response.close()


class SupabaseStorageBackend:
    """Objects behind a Supabase project's Storage API, reached with the service key."""

    def __init__(
        self, project_url: str, service_key: str, *, timeout: float = 30.0, concurrency: int = 8
    ) -> None:
        require_service_key(service_key)
        self.concurrency = concurrency
        self.base_url = project_url.rstrip("/") + "/storage/v1"
        self._secret = service_key
        headers = {"apikey": service_key, "Authorization": f"Bearer {service_key}"}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)
        self._storage = SyncStorageClient(self.base_url + "/", headers, http_client=self._http)

    def close(self) -> None:
        self._http.close()

    def _call(self, action: str, bucket: str, function: Any, *args: Any) -> Any:
        try:
            return _retrying(function)(*args)
        except httpx.InvalidURL as exc:
            # A key too long for a request line (a 100 kB "file name" in a legacy row).
            raise ObjectRefused(
                f"cannot {action}: the key does not fit in a URL ({exc})", status="414"
            ) from None
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            raise StorageUnreachable(
                f"Storage API at {self.base_url} did not answer ({action}): {exc}",
                hint="check the project URL and that the Storage API is up; re-run to resume",
            ) from exc
        except StorageApiError as exc:
            # Not chained: the error holds the request, and the request holds the key.
            if denied(exc):
                raise refusal(exc, action, bucket, self._secret) from None
            said = _JWT.sub("[token]", str(exc.message).replace(self._secret, "[key]"))[:300]
            raise ObjectRefused(
                f"Storage API refused to {action} (status {exc.status}, {exc.code}: {said})",
                status=str(exc.status), code=str(exc.code),
            ) from None

    def readable(self, name: str) -> bool:
        return api_key(name)

    def info(self, bucket: str, name: str) -> ObjectInfo | None:
        if not api_key(name):
            # The info route refuses the key (400 InvalidKey); the list route finds it by name.
            return self._listed(bucket, name)
        try:
            raw = self._call("read the object info", bucket, self._storage.from_(bucket).info, name)
        except ObjectRefused as exc:
            if exc.status == "404" or exc.code in _MISSING_CODES:
                return None
            raise
        metadata = raw.get("metadata") or {}
        return ObjectInfo(
            bucket=bucket,
            name=name,
            size=int(raw.get("size") or metadata.get("size") or 0),
            etag=(raw.get("etag") or metadata.get("eTag") or "").strip('"') or None,
            content_type=raw.get("content_type") or metadata.get("mimetype"),
        )

    def _listed(self, bucket: str, name: str) -> ObjectInfo | None:
        folder, _, leaf = name.rpartition("/")
        page = self._call(
            "list objects", bucket, self._storage.from_(bucket).list, folder,
            {"limit": PAGE_SIZE, "offset": 0, "search": leaf, "sortBy": {"column": "name", "order": "asc"}},
        )
        for entry in page:
            if entry.get("name") == leaf and entry.get("id") is not None:
                return _object_info(bucket, name, entry.get("metadata") or {})
        return None

    def read(self, bucket: str, name: str) -> bytes:
        return self._call("download an object", bucket, self._storage.from_(bucket).download, name)

    def stream(self, bucket: str, name: str) -> Iterator[bytes]:
        def opened() -> httpx.Response:
            request = self._http.build_request("GET", f"/object/{quote(bucket)}/{quote(name)}")
            response = self._http.send(request, stream=True)
            if response.is_error:
                response.read()
                response.close()
                error = api_error(response)
                if str(error.status) == "404":
                    raise FileNotFoundError(f"no object {bucket}/{name}")
                raise error
            return response

        response = self._call("download an object", bucket, opened)
        return _body(response)

    def write(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        self._call(
            "upload an object", bucket, self._storage.from_(bucket).upload, name, data,
            {"content-type": content_type, "upsert": "true"},
        )

    def _post(
        self, action: str, route: str, bucket: str, name: str, to_bucket: str, to_name: str
    ) -> dict[str, Any]:
        body = {"bucketId": bucket, "sourceKey": name,
                "destinationBucket": to_bucket, "destinationKey": to_name}

        def send() -> dict[str, Any]:
            response = self._http.post(route, json=body)
            if response.is_error:
                raise api_error(response)
            try:
                answer = response.json()
            except ValueError:
                return {}
            return answer if isinstance(answer, dict) else {}

        return self._call(action, bucket if to_bucket == bucket else f"{bucket} (to {to_bucket})", send)

    def copy(self, bucket: str, name: str, to_bucket: str, to_name: str) -> None:
        self._post("copy an object", "/object/copy", bucket, name, to_bucket, to_name)

    def copy_many(self, orders: Sequence[CopyOrder]) -> list[Copied | Exception]:
        """Each copy by the server (no bytes through the tool) unless its destination exists,
        CONCURRENCY at once; the destination is then read back and hashed, streamed."""

        def copy_one(order: CopyOrder) -> Copied | Exception:
            bucket, name, to_bucket, to_name = order
            try:
                # Copy first: the answer holds the new object's record (its ETag); an existing
                # destination (an earlier run's copy) is a 409, and then it is looked up.
                made, etag = True, None
                try:
                    answer = self._post("copy an object", "/object/copy", bucket, name, to_bucket, to_name)
                    etag = (answer.get("metadata") or {}).get("eTag")
                except ObjectRefused as exc:
                    if exc.status != "409":
                        raise
                    made, found = False, self.info(to_bucket, to_name)
                    etag = found.etag if found else None
                digest, size = hashlib.sha256(), 0
                for chunk in self.stream(to_bucket, to_name):
                    digest.update(chunk)
                    size += len(chunk)
            except (OSError, ValueError, ObjectRefused) as exc:
                return exc
            # The server's record of the copy: what proves it when the source cannot be read.
            return Copied(size, digest.hexdigest(), made, etag.strip('"') if etag else None)

        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(copy_one, orders))

    def move(self, bucket: str, name: str, to_bucket: str, to_name: str) -> None:
        self._post("move an object", "/object/move", bucket, name, to_bucket, to_name)

    def remove(self, bucket: str, names: list[str]) -> None:
        if names:
            self._call("remove objects", bucket, self._storage.from_(bucket).remove, names)

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        # list-v2 without a delimiter returns every object under PREFIX, flat, a page per call;
        # a server without it (404) is walked folder by folder.
        folder = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"  # a folder, not a stem
        cursor: str | None = None
        while True:
            body: dict[str, Any] = {"prefix": folder, "limit": PAGE_SIZE, "with_delimiter": False}
            if cursor:
                body["cursor"] = cursor

            def send(body: dict[str, Any] = body) -> dict[str, Any]:
                response = self._http.post(f"/object/list-v2/{quote(bucket)}", json=body)
                if response.is_error:
                    raise api_error(response)
                return response.json()

            try:
                page = self._call("list objects", bucket, send)
            except ObjectRefused as exc:
                if exc.status == "404" and cursor is None:
                    yield from self._walk(bucket, prefix)
                    return
                raise
            for entry in page.get("objects") or []:
                yield _object_info(bucket, entry["name"], entry.get("metadata") or {})
            cursor = page.get("nextCursor")
            if not page.get("hasNext") or not cursor:
                return

    def _walk(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        # The list route returns one folder level; folders (id None) are walked recursively.
        offset = 0
        while True:
            page = self._call(
                "list objects", bucket, self._storage.from_(bucket).list, prefix,
                {"limit": PAGE_SIZE, "offset": offset, "sortBy": {"column": "name", "order": "asc"}},
            )
            for entry in page:
                path = f"{prefix.rstrip('/')}/{entry['name']}".lstrip("/")
                if entry.get("id") is None:
                    yield from self._walk(bucket, path)
                    continue
                yield _object_info(bucket, path, entry.get("metadata") or {})
            if len(page) < PAGE_SIZE:
                return
            offset += PAGE_SIZE
