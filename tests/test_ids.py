"""Session and call ids: well-formed, and different every time."""

from __future__ import annotations

import re
import uuid

from codex.ids import new_call_id, random_uuid


def test_random_uuid_is_a_version_4_rfc_4122_uuid_in_canonical_form() -> None:
    seen = set()
    for _ in range(200):
        text = random_uuid()
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
        seen.add(text)
    assert len(seen) == 200


def test_call_ids_look_like_the_models_and_do_not_repeat() -> None:
    ids = {new_call_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", call_id) for call_id in ids)
