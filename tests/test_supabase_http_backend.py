"""The Supabase Storage HTTP backend against a real Storage API server.

Runs only when CONSOLIDATION_STORAGE_URL (the project URL) and CONSOLIDATION_SERVICE_KEY are
set; a fake server would prove nothing about the real API.
"""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from storage_migration.backends.supabase_http import SupabaseStorageBackend

URL = os.environ.get("CONSOLIDATION_STORAGE_URL")
KEY = os.environ.get("CONSOLIDATION_SERVICE_KEY")
pytestmark = pytest.mark.skipif(
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
