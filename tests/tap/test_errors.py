"""Plan-gated streams are skipped with one warning; any other API error fails the run clearly."""

from __future__ import annotations

import logging

import pytest

from tap_getresponse.api import GetResponseAPIError
from tests.sandbox import Scale
from tests.tap.conftest import run_cli, run_sync, sandbox_config

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


def test_any_other_error_fails_the_run(make_sandbox):
    sb = make_sandbox(scale=SMALL)
    sb.faults.fail_next(1, status=400, path="/tags")
    with pytest.raises(GetResponseAPIError, match="400"):
        run_sync(sandbox_config(sb), streams=["tags"])


def test_cli_exit_codes_and_messages(make_sandbox, tmp_path):
    sb = make_sandbox(scale=SMALL)
    gated = run_cli(tmp_path, sandbox_config(sb), streams=["sms", "campaigns"])
    assert gated.returncode == 0, gated.stderr
    assert gated.stderr.count("Skipping stream 'sms'") == 1
    assert len(gated.result.records["campaigns"]) == 2

    sb.faults.fail_next(1, status=400, path="/campaigns")
    failed = run_cli(tmp_path, sandbox_config(sb), streams=["campaigns"])
    assert failed.returncode == 1
    assert "Sync failed: GetResponse API 400 (code 1000) on GET /campaigns" in failed.stderr
    assert "Traceback" not in failed.stderr
