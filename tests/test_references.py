"""Reference parsing and rewriting: one case per form, from a fixture table."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from storage_migration.references import (
    ForeignReference,
    ObjectReference,
    ReferenceStyle,
    disambiguated_name,
    format_reference,
    parse_reference,
    rewritten_reference,
    safe_file_name,
)

PROJECT = "http://127.0.0.1:54321"
BUCKETS = ("chat-attachments", "voice-notes", "chat-files")
CASES = tomllib.loads((Path(__file__).parent / "fixtures/references.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=[case["raw"][:60] for case in CASES])
def test_reference_forms(case: dict) -> None:
    parsed = parse_reference(case["raw"], project_url=PROJECT, known_buckets=BUCKETS)
    if "foreign" in case:
        assert isinstance(parsed, ForeignReference)
        assert case["foreign"] in parsed.reason
        return
    assert isinstance(parsed, ObjectReference)
    assert parsed.style == ReferenceStyle(case["style"])
    assert (parsed.bucket or "") == case["bucket"]
    assert parsed.path == case["path"]
    assert parsed.query == case.get("query", "")


@pytest.mark.parametrize("case", [c for c in CASES if "foreign" not in c and c["bucket"]],
                         ids=lambda c: c["style"])
def test_url_forms_round_trip_through_format(case: dict) -> None:
    parsed = parse_reference(case["raw"], project_url=PROJECT, known_buckets=BUCKETS)
    if parsed.style is ReferenceStyle.SIGNED_URL:
        with pytest.raises(ValueError, match="signed"):
            format_reference(parsed.bucket, parsed.path, parsed.style, project_url=PROJECT)
        return
    text = format_reference(parsed.bucket, parsed.path, parsed.style, project_url=PROJECT)
    again = parse_reference(text, project_url=PROJECT, known_buckets=BUCKETS)
    assert (again.style, again.bucket, again.path) == (parsed.style, parsed.bucket, parsed.path)


def test_signed_url_is_replaced_not_rewritten() -> None:
    signed = parse_reference(
        f"{PROJECT}/storage/v1/object/sign/voice-notes/u1/a.webm?token=abc",
        project_url=PROJECT, known_buckets=BUCKETS,
    )
    new = rewritten_reference(signed, "chat-files", "s/u/a.webm", fallback_style="bucket_path",
                              project_url=PROJECT)
    assert new == "chat-files/s/u/a.webm"
    assert "token" not in new


def test_public_url_keeps_its_form_and_encodes_the_new_path() -> None:
    public = parse_reference(
        f"{PROJECT}/storage/v1/object/public/chat-attachments/b/x.png",
        project_url=PROJECT, known_buckets=BUCKETS,
    )
    new = rewritten_reference(public, "chat-files", "s/u/my café.png", fallback_style="bucket_path",
                              project_url=PROJECT)
    assert new == f"{PROJECT}/storage/v1/object/public/chat-files/s/u/my%20caf%C3%A9.png"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("/abs/path/file.txt", "file.txt"),
        ("..", "file"),
        (".hidden", "hidden"),
        ("a\\..\\b.png", "b.png"),
        ("tab\there.txt", "tab_here.txt"),
        ("naïve café.pdf", "naive cafe.pdf"),
        ("日本語 #1 [draft]~.txt", "___ _1 _draft__.txt"),
        ("100%.png", "100_.png"),
    ],
)
def test_safe_file_name_cannot_climb_out(name: str, safe: str) -> None:
    assert safe_file_name(name) == safe


STORAGE_KEY = re.compile(r"^[A-Za-z0-9_/!.*'() &$=@;:+,?-]*$")


@pytest.mark.parametrize("name", ["naïve café.pdf", "a\\x00b", "ü/../../x", "emoji 😀.png", "q?x=1&y"])
def test_safe_names_are_keys_the_storage_api_accepts(name: str) -> None:
    assert STORAGE_KEY.match(safe_file_name(name))


def test_disambiguated_names_are_stable_and_distinct() -> None:
    first = disambiguated_name("photo.png", "chat-attachments/a/photo.png")
    again = disambiguated_name("photo.png", "chat-attachments/a/photo.png")
    other = disambiguated_name("photo.png", "chat-attachments/b/photo.png")
    assert first == again != other
    assert first.startswith("photo-") and first.endswith(".png")
