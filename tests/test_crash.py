"""Issue 4, case 1: ``kill -9`` of the engine at its failpoints and at random instants, then restart
and converge — nothing lost, nothing duplicated."""

from __future__ import annotations

import pytest

from engine import failpoints


def test_failpoint_specs_parse_and_unknown_names_are_refused() -> None:
    assert failpoints.parse("") == {}
    assert failpoints.parse("store_commit:3, page_read") == {"store_commit": 3, "page_read": 1}
    assert failpoints.format_spec({"write_sent": 2, "store_commit": 1}) == "write_sent:2,store_commit:1"
    with pytest.raises(ValueError, match="unknown failpoint 'nope'"):
        failpoints.parse("nope:1")
    with pytest.raises(ValueError, match="at least 1"):
        failpoints.parse("write_sent:0")


def test_failpoints_are_inert_unless_armed() -> None:
    assert failpoints.ARMED == {}  # the test run itself never arms any
    failpoints.hit("store_commit")  # counts, kills nothing
