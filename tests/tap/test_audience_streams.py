"""Segment members, suppression lists and blocklists (account and per list) through the sandbox."""

from __future__ import annotations

import logging

import pytest

from tests.sandbox import Scale
from tests.sandbox.server import Answer
from tests.tap.conftest import run_sync, sandbox_config

STREAMS = ("segment_contacts", "suppressions", "account_blocklists", "campaign_blocklists")
KEYS = {
    "segment_contacts": ("searchContactId", "contactId"),
    "suppressions": ("suppressionId",),
    "account_blocklists": ("mask",),
    "campaign_blocklists": ("campaignId", "mask"),
}


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=Scale(contacts=80, campaigns=6, search_contacts=6), seed=11)


def members(sb) -> set[tuple[str, str]]:
    """(segment, contact) for every contact each segment's one condition selects."""
    out = set()
    for segment in sb.data.search_contacts:
        campaign = sb.data.campaigns[segment["_campaign_idx"]]["campaignId"]
        out |= {
            (segment["searchContactId"], contact["contactId"])
            for contact in sb.data.contacts
            if contact["campaign"]["campaignId"] == campaign
            and segment["_needle"] in contact["email"]
        }
    return out


def sandbox_rows(sb) -> dict[str, set[tuple[str, ...]]]:
    """The sandbox's own records of every stream, as key tuples."""
    cols = sb.data.collections
    return {
        "segment_contacts": members(sb),
        "suppressions": {(s["suppressionId"],) for s in cols["suppressions"]},
        "account_blocklists": {(row["mask"],) for row in cols["account-blocklist"]},
        "campaign_blocklists": {(r["campaignId"], r["mask"]) for r in cols["campaign-blocklists"]},
    }


def emitted(result, stream: str) -> list[tuple[str, ...]]:
    return [tuple(record[key] for key in KEYS[stream]) for record in result.records[stream]]


def skip_warnings(caplog, stream: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and f"Skipping stream '{stream}'" in r.getMessage()
    ]


def test_a_full_sync_delivers_exactly_the_sandboxs_records(sb):
    result = run_sync(sandbox_config(sb, page_size=2), streams=STREAMS)
    expected = sandbox_rows(sb)
    for stream in STREAMS:
        rows = emitted(result, stream)
        assert len(rows) == len(set(rows)), f"{stream}: a key emitted twice"
        assert set(rows) == expected[stream], stream
        assert expected[stream], f"{stream}: the sandbox seeded nothing"
        assert all(part not in {None, ""} for row in rows for part in row), stream
    assert len({segment for segment, _ in expected["segment_contacts"]}) > 1
    paged = [r for r in sb.log if r.path.endswith("/contacts") and r.query.get("page") == "2"]
    assert paged, "a segment with more members than a page is read page by page"
    details = [r.path for r in sb.log if r.path.startswith("/suppressions/")]
    assert sorted(details) == sorted(f"/suppressions/{row[0]}" for row in expected["suppressions"])


def test_suppression_lists_carry_their_masks(sb):
    result = run_sync(sandbox_config(sb), streams=["suppressions"])
    masks = {r["suppressionId"]: r["masks"] for r in result.records["suppressions"]}
    seeded = {s["suppressionId"]: s["_masks"] for s in sb.data.collections["suppressions"]}
    assert masks == seeded
    assert all(seeded.values())


def test_segment_members_carry_the_searched_contact_details(sb):
    result = run_sync(sandbox_config(sb), streams=["segment_contacts"])
    record = result.records["segment_contacts"][0]
    contact = sb.data.contacts.get(record["contactId"])
    assert contact is not None
    assert (record["email"], record["campaign"]["campaignId"]) == (
        contact["email"],
        contact["campaign"]["campaignId"],
    )
    assert isinstance(record["score"], int | None)


def test_a_rerun_reads_everything_again_and_sees_a_new_member(sb):
    first = run_sync(sandbox_config(sb), streams=STREAMS)
    segment = sb.data.search_contacts[0]
    campaign = sb.data.campaigns[segment["_campaign_idx"]]["campaignId"]
    joined = sb.data.add_contact(f"new.member@{segment['_needle']}.test", campaign)
    second = run_sync(sandbox_config(sb), streams=STREAMS, state=first.state)
    for stream in STREAMS:
        before = set(emitted(first, stream))
        after = set(emitted(second, stream))
        if stream == "segment_contacts":
            assert after - before == {(segment["searchContactId"], joined)}
        else:
            assert after == before, stream
    assert all(not bookmark for bookmark in second.state["bookmarks"].values())


@pytest.mark.parametrize(
    ("stream", "path"),
    [
        ("segment_contacts", "/search-contacts/*/contacts"),
        ("suppressions", "/suppressions"),
        ("account_blocklists", "/accounts/blocklists"),
        ("campaign_blocklists", "/campaigns/*/blocklists"),
    ],
)
def test_a_403_skips_only_that_stream_with_one_warning(sb, caplog, stream, path):
    sb.faults.fail_next(1_000, status=403, path=path)
    with caplog.at_level(logging.WARNING):
        result = run_sync(sandbox_config(sb), streams=STREAMS)
    (warning,) = skip_warnings(caplog, stream)
    assert "403" in warning
    assert not result.records[stream]
    expected = sandbox_rows(sb)
    for other in set(STREAMS) - {stream}:
        assert set(emitted(result, other)) == expected[other], other


def test_masks_that_are_no_key_are_skipped_and_reported(sb, caplog):
    body = {"masks": ["ok@blocked.test", "", "  ", 5, None, "ok@blocked.test", "@x.test"]}
    sb.faults.answer_next(1, path="/accounts/blocklists", answer=Answer(body=body))
    with caplog.at_level(logging.WARNING):
        result = run_sync(sandbox_config(sb), streams=["account_blocklists"])
    assert emitted(result, "account_blocklists") == [("ok@blocked.test",), ("@x.test",)]
    reported = [r.getMessage() for r in caplog.records if "masks[]" in r.getMessage()]
    assert reported
    assert not any("ok@blocked.test" in message for message in reported)


def test_a_list_gone_mid_run_is_skipped_not_the_stream(sb, caplog):
    gone = sb.data.campaigns[0]["campaignId"]
    sb.faults.fail_next(1, status=404, path=f"/campaigns/{gone}/blocklists")
    with caplog.at_level(logging.WARNING):
        result = run_sync(sandbox_config(sb), streams=["campaign_blocklists"])
    assert not skip_warnings(caplog, "campaign_blocklists")
    expected = {row for row in sandbox_rows(sb)["campaign_blocklists"] if row[0] != gone}
    assert set(emitted(result, "campaign_blocklists")) == expected
