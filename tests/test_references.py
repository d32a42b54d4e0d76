"""Reference parsing and rewriting: one case per form, from a fixture table."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from consolidation.storage_migration.references import (
    ForeignReference,
    ObjectReference,
    ReferenceStyle,
    disambiguated_name,
    format_reference,
    parse_reference,
    rewritten_reference,
    safe_file_name,
    shown,
    works_for_private_bucket,
)

from consolidation.core.config import Config, parse_config
from consolidation.core.errors import ConfigError

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


DEFAULT_FORMS = Config().storage.reference_forms
AUTHENTICATED = {form: "authenticated_url" for form in DEFAULT_FORMS}
AUTH = f"{PROJECT}/storage/v1/object/authenticated/chat-files"
# (reference as found, forms, what it reads as at chat-files/s/u/<file>): every form of this
# project becomes the bucket path by default; as authenticated URLs by config, keeping a URL's
# query and fragment but never a signed URL's token; never a public URL (chat-files is private).
REWRITES = [
    (f"{PROJECT}/storage/v1/object/public/chat-attachments/b/x.png", DEFAULT_FORMS, "chat-files/s/u/x.png"),
    (f"{PROJECT}/storage/v1/object/public/chat-attachments/b/x.png?download=#p2", AUTHENTICATED,
     f"{AUTH}/s/u/x.png?download=#p2"),
    (f"{PROJECT}/storage/v1/object/sign/voice-notes/u1/x.png?token=abc", DEFAULT_FORMS,
     "chat-files/s/u/x.png"),
    (f"{PROJECT}/storage/v1/object/sign/voice-notes/u1/x.png?token=abc", AUTHENTICATED, f"{AUTH}/s/u/x.png"),
    (f"{PROJECT}/storage/v1/render/image/public/chat-attachments/b/x.png?width=320", DEFAULT_FORMS,
     "chat-files/s/u/x.png"),
    (f"{PROJECT}/storage/v1/render/image/public/chat-attachments/b/x.png?width=320", AUTHENTICATED,
     f"{PROJECT}/storage/v1/render/image/authenticated/chat-files/s/u/x.png?width=320"),
    (f"{PROJECT}/storage/v1/render/image/sign/chat-attachments/b/x.png?token=abc", AUTHENTICATED,
     f"{PROJECT}/storage/v1/render/image/authenticated/chat-files/s/u/x.png"),
    ("chat-attachments/b/x.png", DEFAULT_FORMS, "chat-files/s/u/x.png"),
    ("chat-attachments/b/x.png", AUTHENTICATED, f"{AUTH}/s/u/x.png"),
    ("b/x.png", {"public_url": "authenticated_url"}, "chat-files/s/u/x.png"),
    (f"{PROJECT}/storage/v1/object/authenticated/voice-notes/u1/x.png", {"public_url": "authenticated_url"},
     "chat-files/s/u/x.png"),
]


@pytest.mark.parametrize(
    ("raw", "forms", "expected"), REWRITES, ids=[f"{r[0][22:70]}-{len(r[1])}" for r in REWRITES]
)
def test_rewritten_references_read_in_the_configured_form(raw: str, forms: dict, expected: str) -> None:
    parsed = parse_reference(raw, project_url=PROJECT, known_buckets=BUCKETS)
    assert isinstance(parsed, ObjectReference)
    new = rewritten_reference(parsed, "chat-files", "s/u/x.png", forms=forms, project_url=PROJECT)
    assert new == expected
    again = parse_reference(new, project_url=PROJECT, known_buckets=BUCKETS)
    assert works_for_private_bucket(again) and "token" not in new and "/public/" not in new


def test_a_new_name_is_percent_encoded_in_urls_and_plain_in_paths() -> None:
    public = parse_reference(
        f"{PROJECT}/storage/v1/object/public/chat-attachments/b/x.png",
        project_url=PROJECT, known_buckets=BUCKETS,
    )
    path = "s/u/my café.png"
    assert rewritten_reference(public, "chat-files", path, forms=DEFAULT_FORMS, project_url=PROJECT) == (
        "chat-files/s/u/my café.png"
    )
    assert rewritten_reference(public, "chat-files", path, forms=AUTHENTICATED, project_url=PROJECT) == (
        f"{AUTH}/s/u/my%20caf%C3%A9.png"
    )


def test_public_urls_are_the_form_a_private_bucket_refuses() -> None:
    def parsed(raw: str) -> ObjectReference:
        found = parse_reference(raw, project_url=PROJECT, known_buckets=BUCKETS)
        assert isinstance(found, ObjectReference)
        return found

    storage = f"{PROJECT}/storage/v1"
    assert not works_for_private_bucket(parsed(f"{storage}/object/public/chat-files/s/u/x.png"))
    assert not works_for_private_bucket(parsed(f"{storage}/render/image/public/chat-files/s/x.png"))
    for readable in ("chat-files/s/u/x.png", f"{AUTH}/s/u/x.png", f"{storage}/object/chat-files/s/x",
                     f"{storage}/object/sign/chat-files/s/x.png?token=t"):
        assert works_for_private_bucket(parsed(readable)), readable


def test_a_public_url_form_is_not_a_configurable_target() -> None:
    with pytest.raises(ConfigError, match="storage.reference_forms.public_url"):
        parse_config('[storage.reference_forms]\npublic_url = "public_url"\n')


# Malformed references parse (as something to leave alone, or an object that will not be
# found), never raise.
MALFORMED = [
    "http://[::1/storage/v1/object/public/chat-attachments/x.png",
    f"{PROJECT}/storage/v1/object/public/chat-attachments/%C3%28%ZZ%/x.png",
    f"{PROJECT}/storage/v1/object/public/chat-attachments/a/../../b/x.png",
    "data:text/plain;base64,SGVsbG8=",
    "chat-attachments/x.png#frag?not=query",
    f"{PROJECT}/storage/v1/object/public/chat-attachments/" + "é" * 50_000 + ".png",
    "https://" + "h" * 100_000 + "/x.png",
]


@pytest.mark.parametrize("raw", MALFORMED, ids=[raw[:40] for raw in MALFORMED])
def test_malformed_references_parse_without_raising(raw: str) -> None:
    parsed = parse_reference(raw, project_url=PROJECT, known_buckets=BUCKETS)
    assert isinstance(parsed, ObjectReference | ForeignReference)
    if isinstance(parsed, ForeignReference):
        assert len(parsed.reason) < 400


def test_long_values_are_shown_shortened_with_their_length() -> None:
    long = "http://x/" + "é" * 100_000
    text = shown(long)
    assert len(text) < 300 and text.startswith("http://x/") and "[99,809 characters]" in text
    assert shown("short") == "short"


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
