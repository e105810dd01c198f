"""Plan-gated streams are skipped with one warning; a 400 stops its stream; a 401 ends the run."""

from __future__ import annotations

import logging

import pytest

from tap_getresponse.api.errors import RequestRefusedError
from tap_getresponse.tap import TapGetResponse
from tests.sandbox import Scale
from tests.tap.conftest import run_cli, run_sync, sandbox_config
from tests.tap.test_robustness import check_one_line, sync_checked

SMALL = Scale(contacts=20, newsletters=4, autoresponders=2, campaigns=2)


def skip_warnings(caplog, stream):
    return [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and f"Skipping stream '{stream}'" in r.getMessage()
    ]


def test_sms_without_the_add_on_is_skipped_with_one_warning(make_sandbox, caplog):
    sb = make_sandbox(scale=SMALL)  # SMS add-on off: /sms answers 403
    with caplog.at_level(logging.WARNING):
        result = run_sync(sandbox_config(sb), streams=["sms", "campaigns", "tags"])
    (warning,) = skip_warnings(caplog, "sms")
    assert "403" in warning.getMessage()
    assert not result.records["sms"]
    assert len(result.records["campaigns"]) == 2
    assert result.records["tags"]


@pytest.mark.parametrize("status", [403, 404])
def test_a_collection_the_account_lacks_is_skipped(make_sandbox, caplog, status):
    sb = make_sandbox(scale=SMALL)
    sb.faults.fail_next(1, status=status, path="/webinars")
    with caplog.at_level(logging.WARNING):
        result = run_sync(sandbox_config(sb), streams=["webinars", "workflows"])
    assert len(skip_warnings(caplog, "webinars")) == 1
    assert result.records["workflows"]


def test_a_gated_parent_collection_skips_its_fan_out_stream_once(make_sandbox, caplog):
    sb = make_sandbox(scale=SMALL)
    sb.faults.fail_next(1, status=403, path="/autoresponders")
    with caplog.at_level(logging.WARNING):
        result = run_sync(sandbox_config(sb), streams=["autoresponder_statistics"])
    assert len(skip_warnings(caplog, "autoresponder_statistics")) == 1
    assert not result.records["autoresponder_statistics"]


def test_a_deleted_parent_is_not_a_gated_stream(make_sandbox, caplog):
    sb = make_sandbox(scale=SMALL)
    gone = sb.data.newsletters[0]
    gone_id = gone["newsletterId"]
    sb.faults.fail_next(1, status=404, path=f"/newsletters/{gone_id}/statistics")
    with caplog.at_level(logging.WARNING):
        result = run_sync(sandbox_config(sb), streams=["newsletter_statistics"])
    assert not skip_warnings(caplog, "newsletter_statistics")
    assert {r["newsletterId"] for r in result.records["newsletter_statistics"]} - {gone_id}


def refuse_page(sb, path: str, page: str, status: int = 400) -> None:
    """Answer `status` to the request of `path` for page `page` (requests one at a time)."""

    def on_request(entry) -> None:
        if entry.path == path and entry.query.get("page") == page:
            sb.faults.fail_next(1, status=status, path=path)

    sb.on_request = on_request


def test_a_400_stops_only_its_stream_and_keeps_its_bookmark_at_what_it_emitted(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    refuse_page(sb, "/contacts", "2")
    config = sandbox_config(sb, page_size=5, max_parallel_requests=1)
    result, problems = sync_checked(config, ["contacts", "campaigns", "tags"])
    line = "Stream 'contacts' failed: GetResponse API 400 (code 1000) on GET /contacts"
    assert problems == [f"{line}: Injected fault"]
    emitted = result.records["contacts"]
    assert len(emitted) == 5, "the first page, then the stream stopped"
    saved = result.state["bookmarks"]["contacts"]
    assert saved["replication_key_value"] == max(r["changedOn"] for r in emitted)
    assert len(result.records["campaigns"]) == len(sb.data.campaigns)
    assert len(result.records["tags"]) == len(sb.data.tags)
    # The next run reads on from the bookmark and gets every contact the first one missed.
    sb.on_request = None
    rest, problems = sync_checked(config, ["contacts"], result.state)
    assert problems == []
    live = {r["contactId"] for r in rest.records["contacts"] if not r.get("_sdc_deleted_at")}
    assert live | set(result.ids("contacts", "contactId")) == {
        c["contactId"] for c in sb.data.contacts
    }


def test_a_400_in_one_partition_stops_its_fan_out_stream_not_the_run(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    config = sandbox_config(sb, max_parallel_requests=1)
    first, problems = sync_checked(config, ["newsletter_statistics"])
    assert problems == []
    sent = sorted({r["newsletterId"] for r in first.records["newsletter_statistics"]})
    assert len(sent) > 1
    refused = sent[1]
    path = f"/newsletters/{refused}/statistics"
    sb.faults.fail_next(1, status=400, path=path)
    again, problems = sync_checked(config, ["newsletter_statistics", "campaigns"], first.state)
    line = f"Stream 'newsletter_statistics' failed: GetResponse API 400 (code 1000) on GET {path}"
    assert problems == [f"{line}: Injected fault"]
    assert len(again.records["campaigns"]) == len(sb.data.campaigns)
    assert refused not in {r["newsletterId"] for r in again.records["newsletter_statistics"]}
    # Every partition's bookmark is still the first run's or one of the records emitted now.
    before = partition_bookmarks(first.state)
    after = partition_bookmarks(again.state)
    assert after[refused] == before[refused]
    for newsletter_id, value in after.items():
        emitted = [
            r["intervalStart"]
            for r in again.records["newsletter_statistics"]
            if r["newsletterId"] == newsletter_id
        ]
        assert value in {before.get(newsletter_id), *emitted}


def partition_bookmarks(state):
    partitions = state["bookmarks"]["newsletter_statistics"]["partitions"]
    return {p["context"]["newsletterId"]: p.get("replication_key_value") for p in partitions}


def test_an_address_a_refusal_echoes_is_masked_in_the_failed_stream_line(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    tap = TapGetResponse(config=sandbox_config(sb), parse_env_config=False)
    with pytest.raises(RequestRefusedError) as refused:
        tap.run.get_page("/tags", {"query[jane.doe@example.org]": "x"}, 1)
    tap.run.stream_failed("tags", refused.value, {})
    (line,) = tap.run.problems()
    assert "Stream 'tags' failed: GetResponse API 400 (code 1000) on GET /tags" in line
    assert "***@example.org" in line
    assert "jane.doe" not in line
    assert sb.api_key not in line


def test_cli_a_400_is_one_line_naming_stream_and_request_and_exit_1(make_sandbox, tmp_path):
    sb = make_sandbox(scale=SMALL)
    gated = run_cli(tmp_path, sandbox_config(sb), streams=["sms", "campaigns"])
    assert gated.returncode == 0, gated.stderr
    assert gated.stderr.count("Skipping stream 'sms'") == 1
    assert len(gated.result.records["campaigns"]) == 2

    sb.faults.fail_next(1, status=400, path="/campaigns")
    failed = run_cli(tmp_path, sandbox_config(sb), streams=["campaigns", "tags"])
    check_one_line(
        failed, "Stream 'campaigns' failed: GetResponse API 400 (code 1000) on GET /campaigns"
    )
    assert sb.api_key not in failed.stderr
    assert not failed.result.records["campaigns"]
    assert len(failed.result.records["tags"]) == len(sb.data.tags), "the other stream went on"


def test_cli_a_401_still_ends_the_run_at_once_with_one_line(make_sandbox, tmp_path):
    sb = make_sandbox(scale=SMALL)
    sb.faults.fail_next(1, status=401, path="/campaigns")  # campaigns syncs before tags
    failed = run_cli(tmp_path, sandbox_config(sb), streams=["campaigns", "tags"])
    check_one_line(failed, "Sync failed: GetResponse API 401 (code 1014) on GET /campaigns")
    assert not failed.result.records, "no stream went on after it"
    assert not [r for r in sb.log if r.path == "/tags"]
