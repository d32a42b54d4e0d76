"""The Supabase Storage HTTP backend: its reading of the API's answers, and the real server.

The server test runs only when CONSOLIDATION_STORAGE_URL (the project URL) and
CONSOLIDATION_SERVICE_KEY are set; a fake server would prove nothing about the real API. How the
backend reads an answer is checked on answers as the API (or its gateway) sends them.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid

import httpx
import pytest
from conftest import build_hand_built, consolidate
from consolidation.policies.http_transport import sign
from consolidation.storage_migration.backends.supabase_http import (
    SupabaseStorageBackend,
    api_error,
    denied,
    refusal,
    require_service_key,
)

from consolidation.core.errors import ConfigError, ExitCode, UsageError
from consolidation.pytest_plugin import LocalDatabase

URL = os.environ.get("CONSOLIDATION_STORAGE_URL")
KEY = os.environ.get("CONSOLIDATION_SERVICE_KEY")
needs_server = pytest.mark.skipif(
    not (URL and KEY),
    reason="set CONSOLIDATION_STORAGE_URL and CONSOLIDATION_SERVICE_KEY to test against a real Storage API",
)
SOURCE = os.environ.get("CONSOLIDATION_TEST_SOURCE_BUCKET", "chat-attachments")
TARGET = os.environ.get("CONSOLIDATION_TEST_TARGET_BUCKET", "chat-files")


@pytest.fixture
def backend() -> SupabaseStorageBackend:
    client = SupabaseStorageBackend(URL, KEY)
    yield client
    client.close()


@needs_server
def test_cross_bucket_copy_move_info_list_remove(backend: SupabaseStorageBackend) -> None:
    folder = f"consolidation-test-{uuid.uuid4()}"
    data = "héllo wörld ".encode() * 100
    backend.write(SOURCE, f"{folder}/a b.txt", data, "text/plain")
    try:
        info = backend.info(SOURCE, f"{folder}/a b.txt")
        assert info is not None and info.size == len(data)
        backend.copy(SOURCE, f"{folder}/a b.txt", TARGET, f"{folder}/copy.txt")
        assert hashlib.sha256(backend.read(TARGET, f"{folder}/copy.txt")).digest() == \
            hashlib.sha256(data).digest()
        backend.move(SOURCE, f"{folder}/a b.txt", TARGET, f"{folder}/moved.txt")
        assert backend.info(SOURCE, f"{folder}/a b.txt") is None
        names = sorted(entry.name for entry in backend.list(TARGET, folder))
        assert names == [f"{folder}/copy.txt", f"{folder}/moved.txt"]
    finally:
        backend.remove(TARGET, [f"{folder}/copy.txt", f"{folder}/moved.txt"])
        backend.remove(SOURCE, [f"{folder}/a b.txt"])
    assert backend.info(TARGET, f"{folder}/moved.txt") is None


SECRET = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl"
# (HTTP status, body, the status the error carries, refused?): answers as servers send them.
ANSWERS = {
    "bad key, older server": (400, {"statusCode": "403", "error": "Unauthorized",
                                    "message": "invalid signature"}, "403", True),
    "policy refusal (not the service key)": (400, {"statusCode": "403", "error": "Unauthorized",
                                                   "message": "new row violates row-level security policy"},
                                             "403", True),
    "expired key, as Invalid JWT with 400": (400, {"statusCode": "400", "error": "Invalid JWT",
                                                   "message": "jwt expired"}, "400", True),
    "newer server, code only": (403, {"code": "AccessDenied", "message": "Access denied"}, 403, True),
    "gateway refuses the key": (401, {"message": "Invalid API key"}, 401, True),
    "key echoed back by a proxy": (401, {"message": f"token {SECRET} rejected"}, 401, True),
    "missing object": (400, {"statusCode": "404", "error": "not_found", "message": "Object not found"},
                       "404", False),
    "destination exists": (400, {"statusCode": "409", "error": "Duplicate",
                                 "message": "The resource already exists"}, "409", False),
    "server down": (503, "upstream connect error", 503, False),
}


@pytest.mark.parametrize("case", list(ANSWERS))
def test_refused_key_or_policy_is_a_configuration_error_that_never_shows_the_key(case: str) -> None:
    status, body, carried, refused = ANSWERS[case]
    answer = httpx.Response(status, **({"json": body} if isinstance(body, dict) else {"text": body}))

    error = api_error(answer)

    assert (error.status, denied(error)) == (carried, refused)
    if refused:
        raised = refusal(error, "copy an object", "chat-attachments (to chat-files)", SECRET)
        text = str(raised)
        assert isinstance(raised, ConfigError) and raised.exit_code == ExitCode.USAGE
        assert "refused to copy an object in bucket chat-attachments (to chat-files)" in text
        assert "CONSOLIDATION_SERVICE_KEY" in raised.hint
        assert SECRET not in text and SECRET.split(".")[1] not in text


# A secret as the stack's auth server signs with: the check reads the key's claims, no server.
JWT_SECRET = secrets.token_urlsafe(32)
AN_HOUR = 3600
# (key, refused?) as an operator may paste them into CONSOLIDATION_SERVICE_KEY.
KEYS = {
    "anon JWT": (sign(JWT_SECRET, {"role": "anon", "iss": "supabase"}), True),
    "authenticated user's JWT": (sign(JWT_SECRET, {"role": "authenticated", "sub": str(uuid.uuid4())}),
                                 True),
    "JWT without a role": (sign(JWT_SECRET, {"iss": "supabase"}), True),
    "expired service JWT": (sign(JWT_SECRET, {"role": "service_role", "exp": int(time.time()) - AN_HOUR}),
                            True),
    "publishable key": ("sb_publishable_" + secrets.token_urlsafe(24), True),
    "not a key at all": ("hunter2-" + secrets.token_urlsafe(8), True),
    "service JWT": (sign(JWT_SECRET, {"role": "service_role", "exp": int(time.time()) + AN_HOUR}), False),
    "secret key": ("sb_secret_" + secrets.token_urlsafe(24), False),
}


@pytest.mark.parametrize("case", list(KEYS))
def test_only_the_service_key_is_accepted(case: str) -> None:
    key, refused = KEYS[case]
    if not refused:
        require_service_key(key)
        return
    with pytest.raises(UsageError) as raised:
        SupabaseStorageBackend("http://127.0.0.1:9", key)
    assert raised.value.exit_code == ExitCode.USAGE
    assert "service_role" in raised.value.hint
    assert key not in str(raised.value)


def test_an_anon_key_is_refused_before_the_inventory_and_nothing_is_written(empty_db: LocalDatabase) -> None:
    build_hand_built(empty_db)
    counted = ("SELECT (SELECT count(*) FROM consolidation.storage_inventory)"
               " + (SELECT count(*) FROM consolidation.storage_transfers)"
               " + (SELECT count(*) FROM consolidation.storage_rewrites)"
               " + (SELECT count(*) FROM consolidation.runs)"
               " + (SELECT count(*) FROM consolidation.phase_records)")
    with empty_db.connect() as conn:
        before = conn.execute(counted).fetchone()
    anon = KEYS["anon JWT"][0]
    # Port 9 answers nothing: a key that reached the network would fail as unreachable (exit 3).
    env = {"CONSOLIDATION_STORAGE_BACKEND": "supabase", "CONSOLIDATION_STORAGE_URL": "http://127.0.0.1:9",
           "CONSOLIDATION_SERVICE_KEY": anon}
    for argv in (("storage", "plan"), ("storage", "--apply")):
        done = consolidate(empty_db, *argv, env=env)
        assert done.returncode == ExitCode.USAGE, (argv, done.stdout, done.stderr)
        assert "role 'anon', not service_role" in done.stderr and "next:" in done.stderr
        assert anon not in done.stdout + done.stderr
    with empty_db.connect() as conn:
        assert conn.execute(counted).fetchone() == before
