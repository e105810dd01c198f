"""Custom reports as streams: discovered from the account, each CSV row once, no credential
ever sent to the download host (its own request log says what reached it)."""

from __future__ import annotations

import csv
import io
import json
import logging
import socket
import threading
import tracemalloc

import pytest
import requests

from tap_getresponse.api import downloads
from tap_getresponse.api.downloads import DownloadClient, DownloadError
from tap_getresponse.streams import STREAMS
from tap_getresponse.streams.report_files import column_schema, snake_case
from tap_getresponse.tap import TapGetResponse
from tests.sandbox import Scale, reports
from tests.tap.conftest import run_cli, run_sync, sandbox_config

SMALL = Scale(contacts=30)
EXPECTED = {
    "report_bounces_weekly": "cR1",
    "report_list_summary_2025": "cR2",
    "report_unsubscribes_q1": "cR3",
    "report_bounces_weekly_2": "cR5",
}


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=SMALL)


def rows_of(sb, report_id):
    """Every data row of the report's ready files, as the sandbox serves them."""
    report = next(r for r in sb.data.custom_reports if r["customReportId"] == report_id)
    out = []
    for file in report["_files"]:
        if file["status"] == "ready":
            text = file["_content"].decode("utf-8-sig")
            out += [
                (file["customReportFileId"], row) for row in list(csv.reader(io.StringIO(text)))[1:]
            ]
    return out


def discover(tmp_path, config):
    run = run_cli(tmp_path, config, args=["--discover"])
    assert run.returncode == 0, run.stderr
    return {entry["tap_stream_id"]: entry for entry in json.loads(run.stdout)["streams"]}


def test_each_report_with_a_ready_file_is_a_stream_with_its_id_in_metadata(sb, tmp_path):
    found = discover(tmp_path, sandbox_config(sb))
    reported = {name: entry for name, entry in found.items() if name.startswith("report_")}
    assert set(reported) == set(EXPECTED), "no stream for a report without a ready file"
    for name, entry in reported.items():
        (root,) = [m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == []]
        assert root["custom-report-id"] == EXPECTED[name]
        assert root["forced-replication-method"] == "INCREMENTAL"
    summary = found["report_list_summary_2025"]["schema"]["properties"]
    assert summary["subscribed"]["type"] == ["integer", "null"]
    assert summary["unsubscribe_rate"]["type"] == ["number", "null"]
    assert summary["date"]["format"] == "date"
    unsubscribes = found["report_unsubscribes_q1"]["schema"]["properties"]
    assert unsubscribes["unsubscribed_on"]["format"] == "date-time"
    assert "channel_new" in unsubscribes, "a column nobody declared is kept, by its header name"
    assert "email" in unsubscribes, "the BOM is not part of the first column's name"


def test_discovery_without_credentials_lists_no_report(sb, tmp_path):
    found = discover(tmp_path, {"api_url": sb.url})
    assert not [name for name in found if name.startswith("report_")]
    assert len(found) == len(STREAMS)
    assert not sb.log


def test_sync_emits_every_row_once_and_a_rerun_nothing(sb, tmp_path):
    config = sandbox_config(sb)
    first = run_cli(tmp_path, config, streams=list(EXPECTED))
    assert first.returncode == 0, first.stderr
    result = first.result
    for name, report_id in EXPECTED.items():
        records = result.records[name]
        expected = rows_of(sb, report_id)
        assert len(records) == len(expected)
        assert {(r["customReportFileId"], r["row_number"]) for r in records} == {
            (fid, n) for fid, n in zip([f for f, _ in expected], _numbers(expected), strict=True)
        }
        assert all(r["customReportId"] == report_id for r in records)
    quoted = [r for r in result.records["report_unsubscribes_q1"] if "\n" in (r["reason"] or "")]
    assert quoted, "a quoted newline stays inside its field"
    assert result.records["report_unsubscribes_q1"][0]["email"].endswith("@brand.test")
    state = result.state
    assert state["bookmarks"]["report_bounces_weekly"]["files_read"] == ["cR1F1", "cR1F2"]
    assert "not ready yet (cR1F3)" in first.stderr
    second = run_cli(tmp_path, config, streams=list(EXPECTED), state=state)
    assert second.returncode == 0, second.stderr
    assert not any(second.result.records.get(name) for name in EXPECTED)
    assert not sb.downloads.credentials_seen()
    assert sb.downloads.log, "the files came from the download host"
    assert all(entry.status == 200 for entry in sb.downloads.log)


def _numbers(rows):
    numbers, previous, count = [], None, 0
    for fid, _ in rows:
        count = count + 1 if fid == previous else 1
        previous = fid
        numbers.append(count)
    return numbers


def test_a_file_that_becomes_ready_is_read_by_the_next_run(sb, tmp_path):
    config = sandbox_config(sb)
    first = run_cli(tmp_path, config, streams=["report_bounces_weekly"])
    report = next(r for r in sb.data.custom_reports if r["customReportId"] == "cR1")
    pending = report["_files"][2]
    pending["_content"] = b"Email,Bounce type\nlate@brand.test,soft\n"
    pending["status"] = "ready"
    second = run_cli(tmp_path, config, streams=["report_bounces_weekly"], state=first.result.state)
    records = second.result.records["report_bounces_weekly"]
    assert [(r["customReportFileId"], r["row_number"]) for r in records] == [("cR1F3", 1)]
    assert records[0]["bounce_type"] == "soft"
    files_read = second.result.state["bookmarks"]["report_bounces_weekly"]["files_read"]
    assert files_read == ["cR1F1", "cR1F2", "cR1F3"]


def test_an_expired_link_is_refreshed_from_the_report_detail(sb):
    tap = TapGetResponse(config=sandbox_config(sb), parse_env_config=False)
    tap.add_account_reports()
    original, handed = sb.downloads.link, []

    def link(file_id):
        url = original(file_id)
        handed.append(url)
        if len(handed) == 1:
            sb.downloads.expire_links()  # as if five minutes passed before the download
        return url

    sb.downloads.link = link
    sb.clear_log()
    sb.downloads.clear_log()
    records = list(tap.streams["report_list_summary_2025"].request_records(None))
    assert len(records) == len(rows_of(sb, "cR2"))
    assert [r.path for r in sb.log].count("/custom-reports/cR2") == 2, "one more detail read"
    assert [entry.status for entry in sb.downloads.log] == [403, 200]


def test_a_transfer_cut_off_midway_is_read_on_from_the_next_row(sb):
    tap = TapGetResponse(config=sandbox_config(sb), parse_env_config=False)
    tap.add_account_reports()
    sb.downloads.clear_log()
    sb.downloads.break_next = 1
    records = list(tap.streams["report_bounces_weekly"].request_records(None))
    keys = [(r["customReportFileId"], r["row_number"]) for r in records]
    assert len(keys) == len(set(keys)) == len(rows_of(sb, "cR1")), "each row once"
    expected = [row for fid, row in rows_of(sb, "cR1") if fid == "cR1F1"]
    assert [r["email"] for r in records if r["customReportFileId"] == "cR1F1"] == [
        row[0] for row in expected
    ]
    assert len(sb.downloads.log) == 3, "the cut file was read again, with a fresh link"


def test_the_download_host_refuses_credentials_and_the_client_sends_none(sb):
    report = next(r for r in sb.data.custom_reports if r["customReportId"] == "cR2")
    link = sb.downloads.link(report["_files"][0]["customReportFileId"])
    client = DownloadClient(user_agent="test-agent")
    with client.open_csv(link) as csv_file:
        assert csv_file.header[0] == "List"
        assert len(list(csv_file.rows)) == 36
    refused = requests.get(link, headers={"X-Domain": "brand.example.com"}, timeout=10)
    assert refused.status_code == 403
    sent = [entry for entry in sb.downloads.log if entry.user_agent == "test-agent"]
    assert sent
    assert not any(entry.credential_headers for entry in sent)
    assert [entry.credential_headers for entry in sb.downloads.credentials_seen()] == [
        ("X-Domain",)
    ]


def test_download_errors_name_the_host_and_path_never_the_signature(sb):
    link = sb.downloads.link("nope")
    client = DownloadClient()
    with pytest.raises(DownloadError) as caught, client.open_csv(link):
        pass
    assert "signature" not in str(caught.value)
    assert "/files/nope.csv" in str(caught.value)


def test_memory_stays_flat_for_a_large_file(sb):
    row = "cRmI,Subject,abc12,someone@brand.test,open,2025-01-01 10:00:00,,\n"
    body = ("\ufeff" + ",".join(reports.ACTIVITY_HEADER) + "\n").encode() + row.encode() * 150_000
    report = sb.data.custom_reports[0]
    report["_files"][0]["_content"] = body  # 10 MB
    link = sb.downloads.link(report["_files"][0]["customReportFileId"])
    client = DownloadClient()
    tracemalloc.start()
    count = 0
    with client.open_csv(link) as csv_file:
        for _ in csv_file.rows:
            count += 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 150_000
    assert peak < len(body) / 10, f"peak {peak} bytes for a {len(body)}-byte file"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "22", ""], {"type": ["integer", "null"]}),
        (["1", "2.5"], {"type": ["number", "null"]}),
        (["00123", "1"], {"type": ["string", "null"]}),
        (["2025-01-01"], {"type": ["string", "null"], "format": "date"}),
        (
            ["2025-01-01 10:00:00", "2025-01-02"],
            {"type": ["string", "null"], "format": "date-time"},
        ),
        (["2025-01-01T10:00:00+0000"], {"type": ["string", "null"], "format": "date-time"}),
        (["hard", "1"], {"type": ["string", "null"]}),
        ([], {"type": ["string", "null"]}),
    ],
    ids=["integer", "number", "leading-zero", "date", "mixed-dates", "timestamp", "text", "empty"],
)
def test_column_types(values, expected):
    assert column_schema(values) == expected


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Bounce date", "bounce_date"),
        ("activityDate", "activity_date"),
        ("Channel (new)", "channel_new"),
        ("", "column"),
    ],
)
def test_snake_case(header, name):
    assert snake_case(header) == name


def test_a_report_listing_the_account_cannot_read_leaves_no_report_stream(sb, caplog):
    sb.faults.fail_next(1, status=403, path="/custom-reports")
    with caplog.at_level(logging.WARNING):
        tap = TapGetResponse(config=sandbox_config(sb), parse_env_config=False)
        tap.add_account_reports()
    assert not [name for name in tap.streams if name.startswith("report_")]
    assert "No custom report streams" in caplog.text
    result = run_sync(sandbox_config(sb), streams=["report_bounces_weekly"])
    assert len(result.records["report_bounces_weekly"]) == len(rows_of(sb, "cR1"))


def test_a_catalog_without_the_report_id_finds_the_report_by_name(sb, tmp_path):
    config = sandbox_config(sb)
    found = discover(tmp_path, config)
    entry = found["report_list_summary_2025"]
    for item in entry["metadata"]:
        item["metadata"].pop("custom-report-id", None)
        if not item["breadcrumb"]:
            item["metadata"]["selected"] = True
    catalog = {"streams": [entry]}
    tap = TapGetResponse(config=config, catalog=catalog, parse_env_config=False)
    stream = tap.streams["report_list_summary_2025"]
    assert stream.report_id is None
    records = list(stream.request_records(None))
    assert len(records) == len(rows_of(sb, "cR2"))
    assert {r["customReportId"] for r in records} == {"cR2"}


def test_a_file_that_cannot_be_read_is_left_for_the_next_run_and_fails_the_run(sb):
    tap = TapGetResponse(config=sandbox_config(sb), parse_env_config=False)
    tap.add_account_reports()
    report = next(r for r in sb.data.custom_reports if r["customReportId"] == "cR1")
    report["_files"][0]["_content"] = None  # the download host answers 404 for it
    stream = tap.streams["report_bounces_weekly"]
    records = list(stream.request_records(None))
    assert {r["customReportFileId"] for r in records} == {"cR1F2"}
    assert stream.stream_state["files_read"] == ["cR1F2"]
    assert "cR1F1 not read" in tap.run.failed["report_bounces_weekly"]
    assert tap.run.problems()


def test_an_older_file_with_other_columns_keeps_them_in_extra_columns(sb):
    report = next(r for r in sb.data.custom_reports if r["customReportId"] == "cR1")
    older = report["_files"][0]
    older["_content"] = (
        b'\xef\xbb\xbfEmail,Row Number,Note\r\n"a@b.example\nx",7,first\r\nz@z.example\r\n'
    )
    result = run_sync(sandbox_config(sb), streams=["report_bounces_weekly"])
    rows = [
        r
        for r in result.records["report_bounces_weekly"]
        if r["customReportFileId"] == older["customReportFileId"]
    ]
    assert [r["email"] for r in rows] == ["a@b.example\nx", "z@z.example"]
    # Read by header name: a header that clashes with the tap's own column gets a suffix.
    assert rows[0]["extra_columns"] == {"row_number_2": "7", "note": "first"}
    assert rows[0]["row_number"] == 1
    assert rows[1]["extra_columns"] == {"row_number_2": None, "note": None}
    newer = [r for r in result.records["report_bounces_weekly"] if r not in rows]
    assert newer
    assert all("extra_columns" not in r for r in newer)


def test_a_download_host_dripping_bytes_is_given_up_at_the_files_deadline(monkeypatch):
    """Each byte comes well within the read timeout; the whole file never does."""
    monkeypatch.setattr(downloads, "DOWNLOAD_SECONDS", 1.0)
    done = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))

    def drip() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n\r\nid,name\r\n")
            while not done.wait(0.1):  # a row that never ends, until the test is over
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    client = DownloadClient(read_timeout=60)
    url = f"http://127.0.0.1:{server.getsockname()[1]}/files/report.csv?signature=s3cret"
    try:
        with pytest.raises(DownloadError) as caught, client.open_csv(url) as csv_file:
            list(csv_file.rows)
        assert not done.is_set()  # given up while the host was still sending
        assert "broke off" in str(caught.value)
        assert "s3cret" not in str(caught.value)
    finally:
        done.set()
        server.close()
        client.close()
