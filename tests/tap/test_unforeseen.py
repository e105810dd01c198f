"""Answers past the documented contract: elements that are no objects, and our own bugs on odd data.

Neither ends the run: elements of a collection that are not JSON objects are skipped with a
warning (paging still counts them, so a full page is still full), and an error of the tap's own
code while reading one stream stops that stream with one line while the others sync.
"""

from __future__ import annotations

import pytest

from tap_getresponse.streams.contacts import TagsStream
from tap_getresponse.windows import BookmarkError
from tests.sandbox import Answer, Scale
from tests.tap.conftest import sandbox_config
from tests.tap.test_robustness import sync_checked

SMALL = Scale(contacts=60, campaigns=3, newsletters=4, autoresponders=2, tags=12)


def test_elements_that_are_not_objects_are_skipped_and_the_rest_read(make_sandbox, caplog):
    sb = make_sandbox(scale=SMALL)
    tags = [dict(tag) for tag in sb.data.tags[:3]]
    sb.faults.answer_next(1, "/tags", Answer(body=[7, "oops", None, *tags]))
    result, problems = sync_checked(sandbox_config(sb), ["tags", "campaigns"])
    assert problems == []
    assert [r["tagId"] for r in result.records["tags"]] == [t["tagId"] for t in tags]
    assert len(result.records["campaigns"]) == 3
    summary = "Values summary: Stream 'tags', item: 3 value(s) skipped (expected object; e.g. 7)"
    assert summary in caplog.messages


def test_a_bug_of_our_own_on_odd_data_stops_only_its_stream(make_sandbox, monkeypatch):
    sb = make_sandbox(scale=SMALL)

    def broken(*_: object, **__: object) -> None:
        msg = "somewhere"
        raise KeyError(msg)

    monkeypatch.setattr(TagsStream, "post_process", broken)
    result, problems = sync_checked(sandbox_config(sb), ["tags", "campaigns", "custom_fields"])
    (line,) = problems
    assert line.startswith("Stream 'tags' failed: unexpected KeyError")
    assert not result.records["tags"]
    assert len(result.records["campaigns"]) == 3
    assert len(result.records["custom_fields"]) == len(sb.data.custom_fields)


def test_run_ending_errors_are_not_swallowed(make_sandbox, monkeypatch):
    """A bad saved bookmark (like `strict_values`) still ends the run, not just the stream."""
    sb = make_sandbox(scale=SMALL)

    def bad_bookmark(*_: object, **__: object) -> None:
        msg = "bookmark 'x' is not a date-time"
        raise BookmarkError(msg)

    monkeypatch.setattr(TagsStream, "post_process", bad_bookmark)
    with pytest.raises(BookmarkError):
        sync_checked(sandbox_config(sb), ["tags"])
