"""Bad input and refused records: each reported where a user can find it; the load goes on."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests

from target_getresponse.logs import mask_emails_in_logs
from tests.sandbox import Answer, Scale, errors
from tests.sandbox.util import fmt_ts, now
from tests.target.conftest import (
    SCHEMA,
    adds_up,
    customer,
    full_emails,
    rejects,
    rejects_file,
    singer_lines,
)

DATA = Path(__file__).parents[1] / "data"
FEW = Scale(contacts=20)
#: SCHEMA with a key of its own, so rejects can name records by it.
KEYED = {
    "type": "object",
    "properties": {**SCHEMA["properties"], "customer_id": {"type": "integer"}},
}


def refuse(sb, method: str, path: str, error: errors.ApiError) -> None:
    """Answer every `method path` request with `error` (GETs of the same path go through)."""

    def hook(entry) -> None:
        if (entry.method, entry.path) == (method, path):
            raise error

    sb.on_request = hook


def on_list(sb, email: str) -> bool:
    return bool(sb.data.contacts.find(email, sb.data.campaigns[0]["campaignId"]))


# -- lines that are no usable message ---------------------------------------------------------


def test_bad_lines_are_skipped_and_named_by_number_never_by_content(
    make_sandbox, run_target, tmp_path
):
    sb = make_sandbox(scale=FEW, seed=1)
    run = run_target(sb, (DATA / "target_bad_lines.singer").read_text())
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert full_emails(run.stderr) == []
    assert "jane.doe" not in run.stderr  # the address on the lines that are not messages
    # One warning per bad line, naming its number and, where the text shows it, its type.
    for number, kind in [(3, "RECORD"), (4, "unknown type"), (5, "RECORD"), (6, "GREETING")]:
        [warning] = [text for text in run.stderr.splitlines() if f"input line {number} " in text]
        assert kind in warning
    assert (run.summary["received"], run.summary["unreadable"]) == (11, 4)
    assert (run.summary["added"], run.summary["rejected"]) == (2, 5)
    assert adds_up(run.summary)
    assert run.states == [{"bookmarks": {"signups": {"through": 13}}}]
    assert on_list(sb, "ann@example.org")
    assert on_list(sb, "bob@example.org")
    # The rejects file: this run's marker, then every bad line and refused record, in order.
    marker, *lines = rejects_file(tmp_path)
    assert marker["run"]["target"] == "target-getresponse"
    assert [line["line"] for line in lines] == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    by_line = {line["line"]: line for line in lines}
    assert (by_line[3]["type"], by_line[3]["stream"], by_line[3]["email"]) == (
        "RECORD",
        "signups",
        None,
    )
    assert "not valid JSON" in by_line[3]["reason"]
    assert "had no SCHEMA" in by_line[7]["reason"]
    assert by_line[8]["key"] == {"customer_id": 4}
    assert by_line[8]["email"] == "***@example.org"
    assert "'VIP customer'" in by_line[8]["reason"]
    assert "got a number" in by_line[9]["reason"]
    assert "got a boolean" in by_line[10]["reason"]
    assert "got a number" in by_line[11]["reason"]
    assert full_emails(json.dumps(lines)) == []
    # Tag names are checked before any call: GetResponse never saw the invalid one.
    created = [e.body["name"] for e in sb.log if e.method == "POST" and e.path == "/tags"]
    assert created == ["spring_sale"]


@pytest.mark.parametrize(
    "cut_off",
    [
        '{"type": "RECORD", "stream": "customers", "record": {"email": "customer3@shop.exam',
        '{"type": "STATE", "value": {"bookmarks": {"customers": {"done": 4',
    ],
    ids=["record", "state"],
)
def test_input_cut_off_mid_line_passes_on_only_a_state_read_whole(
    make_sandbox, run_target, cut_off
):
    sb = make_sandbox(scale=FEW)
    records = [customer(i) for i in range(3)]
    # SCHEMA, two records, STATE (done=2), a third record, then a line the input ends inside.
    lines = singer_lines(records, state_every=2, state=False) + cut_off
    run = run_target(sb, lines)
    assert run.returncode == 1
    assert run.states == [{"bookmarks": {"customers": {"done": 2}}}]
    assert all(on_list(sb, record["email"]) for record in records)
    assert not on_list(sb, "customer3@shop.example.org")
    [error] = [text for text in run.stderr.splitlines() if "| ERROR" in text]
    assert "Input ended in the middle of line 6" in error
    assert "Traceback" not in run.stderr
    assert full_emails(run.stderr) == []
    assert run.summary["unreadable"] == 1
    assert adds_up(run.summary)


def test_a_line_that_is_not_utf8_is_one_bad_line(make_sandbox, run_target, tmp_path) -> None:
    sb = make_sandbox(scale=FEW)
    good = singer_lines([customer(1), customer(2)]).encode()
    schema, first, rest = good.split(b"\n", 2)
    broken = b'{"type": "RECORD", "stream": "customers", "record": {"name": "\xff\xfe"}}'
    run = run_target(sb, b"\n".join([schema, first, broken, rest]))
    assert run.returncode == 0, run.stderr
    assert (run.summary["added"], run.summary["unreadable"]) == (2, 1)
    [line] = rejects(tmp_path)
    assert (line["line"], line["type"]) == (3, "RECORD")
    assert "not UTF-8" in line["reason"]


def test_a_line_nested_too_deeply_to_read_is_one_bad_line(make_sandbox, run_target, tmp_path):
    sb = make_sandbox(scale=FEW)
    schema, first, rest = singer_lines([customer(1), customer(2)]).split("\n", 2)
    deep = '{"type": "RECORD", "stream": "customers", "record": {"name": %s}}' % (
        "[" * 100_000 + "]" * 100_000
    )
    run = run_target(sb, f"{schema}\n{first}\n{deep}\n{rest}")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert (run.summary["added"], run.summary["unreadable"]) == (2, 1)
    [line] = rejects(tmp_path)
    assert (line["line"], line["type"], line["stream"]) == (3, "RECORD", "customers")
    assert "nested too deeply" in line["reason"]


def test_a_batch_message_is_refused_by_name_and_no_state_after_it_is_passed_on(
    make_sandbox, run_target, tmp_path
):
    sb = make_sandbox(scale=FEW)
    batch_file = tmp_path / "batch.jsonl"
    batch_file.write_text(json.dumps(customer(7)) + "\n")
    batch = {
        "type": "BATCH",
        "stream": "customers",
        "encoding": {"format": "jsonl", "compression": "none"},
        "manifest": [batch_file.as_uri()],
    }
    before = singer_lines([customer(1)], state=True)
    after = singer_lines([customer(2)], state=True).split("\n", 1)[1]  # no second SCHEMA
    run = run_target(sb, before + json.dumps(batch) + "\n" + after)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    # The STATE before the batch goes on; the one after it would cover the batch's contact.
    assert run.states == [{"bookmarks": {"customers": {"done": 1}}}]
    assert on_list(sb, customer(2)["email"])  # the load went on
    assert not on_list(sb, customer(7)["email"])
    [error] = [text for text in run.stderr.splitlines() if "| ERROR" in text]
    assert "1 BATCH messages were not loaded" in error
    [line] = rejects(tmp_path)
    assert (line["line"], line["type"]) == (4, "BATCH")
    assert run.summary["unreadable"] == 1


def test_listed_contacts_without_email_or_id_are_left_out_not_the_end_of_the_load(
    make_sandbox, run_target
):
    sb = make_sandbox(scale=FEW)
    odd = [{"email": None, "contactId": None}, {"email": 5}, "x", {"contactId": "abc"}]
    sb.faults.answer_next(3, "/contacts", Answer(body=odd))
    records = [customer(i) for i in range(5)]
    run = run_target(sb, singer_lines(records))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert run.summary["added"] == 5
    assert all(on_list(sb, record["email"]) for record in records)


def test_every_log_line_has_its_addresses_masked_tracebacks_too(caplog) -> None:
    mask_emails_in_logs()
    logger = logging.getLogger("tests.target.masking")
    try:
        message = "refused jane.doe@example.org"
        raise ValueError(message)  # noqa: TRY301 - an exception with an address, logged
    except ValueError:
        logger.exception("Loading %s failed", "ann@example.org")
    assert "***@example.org" in caplog.text
    assert full_emails(caplog.text) == []


# -- tags and custom fields -------------------------------------------------------------------


def test_the_sandbox_refuses_an_invalid_tag_name_with_the_documented_400(make_sandbox) -> None:
    sb = make_sandbox(scale=FEW)
    response = requests.post(
        f"{sb.url}/tags",
        json={"name": "VIP customer"},
        headers={"X-Auth-Token": f"api-key {sb.api_key}"},
        timeout=10,
    )
    body = response.json()
    # createTag: 400 with the ErrorResponse body, code 1000, the field named in `context`.
    assert (response.status_code, body["httpStatus"], body["code"]) == (400, 400, 1000)
    assert body["context"]["fieldName"] == "name"


def test_a_tag_the_api_refuses_to_create_is_a_reject_and_asked_once(
    make_sandbox, run_target, tmp_path
):
    sb = make_sandbox(scale=FEW)
    refuse(sb, "POST", "/tags", errors.validation(fieldName="name", errorDescription="Too many"))
    records = [customer(1, tags=["brand_new"]), customer(2, tags=["brand_new"]), customer(3)]
    run = run_target(sb, singer_lines(records))
    assert run.returncode == 0, run.stderr
    assert (run.summary["added"], run.summary["rejected"]) == (1, 2)
    assert run.states == [{"bookmarks": {"customers": {"done": 3}}}]
    assert len([e for e in sb.log if e.method == "POST" and e.path == "/tags"]) == 1
    lines = rejects(tmp_path)
    assert [line["code"] for line in lines] == [1000, 1000]
    assert all("tag 'brand_new' could not be created" in line["reason"] for line in lines)
    assert all(line["context"]["errorDescription"] == "Too many" for line in lines)
    assert on_list(sb, customer(3)["email"])


def test_a_tag_created_meanwhile_is_read_back_after_the_409(make_sandbox, run_target) -> None:
    sb = make_sandbox(scale=FEW)

    def someone_else_creates_it(entry) -> None:
        if entry.method == "POST" and entry.path == "/tags":
            tag_id = sb.data.new_id(4)
            tag = {"tagId": tag_id, "href": f"{sb.url}/tags/{tag_id}", "name": "late_tag"}
            sb.data.add_item("tags", {**tag, "color": "", "createdAt": fmt_ts(now())})

    sb.on_request = someone_else_creates_it
    run = run_target(sb, singer_lines([customer(1, tags=["late_tag"])]))
    assert run.returncode == 0, run.stderr
    assert (run.summary["added"], run.summary["rejected"]) == (1, 0)
    [contact] = sb.data.contacts.find(customer(1)["email"], sb.data.campaigns[0]["campaignId"])
    assert [tag["name"] for tag in contact["tags"]] == ["late_tag"]


def test_a_custom_field_the_api_refuses_to_create_is_a_reject(make_sandbox, run_target, tmp_path):
    sb = make_sandbox(scale=FEW)
    schema = {
        "type": "object",
        "properties": {**SCHEMA["properties"], "twitter": {"type": ["string", "null"]}},
    }
    records = [customer(1, twitter="@ann"), customer(2, twitter=None), customer(3, twitter="@c")]
    run = run_target(sb, singer_lines(records, schema=schema), create_missing_custom_fields=True)
    assert run.returncode == 0, run.stderr
    # `twitter` is a reserved word GetResponse will not name a custom field after.
    assert (run.summary["added"], run.summary["rejected"]) == (1, 2)
    assert len([e for e in sb.log if e.method == "POST" and e.path == "/custom-fields"]) == 1
    assert on_list(sb, customer(2)["email"])  # no value for it: nothing lost
    for line in rejects(tmp_path):
        assert "custom field 'twitter' could not be created" in line["reason"]
        assert line["code"] == 1000
        assert line["context"]["fieldName"] == "name"


@pytest.mark.parametrize(
    ("fault", "settings", "says"),
    [
        (("POST", "/tags", errors.ApiError(403, 1023)), {}, "GetResponse API 403"),
        (("POST", "/contacts/batch", errors.auth_failed()), {}, "GetResponse API 401"),
        (None, {"campaign_id": "no_such_list"}, "`campaign_id`: list 'no_such_list'"),
    ],
    ids=["permissions", "credentials", "default-list-missing"],
)
def test_what_no_record_can_fix_ends_the_run_with_one_line(
    make_sandbox, run_target, fault, settings, says
):
    sb = make_sandbox(scale=FEW)
    if fault:
        refuse(sb, *fault)
    run = run_target(
        sb, singer_lines([customer(i, tags=["brand_new"]) for i in range(3)]), **settings
    )
    assert run.returncode == 1
    assert run.states == []
    [error] = [text for text in run.stderr.splitlines() if "| ERROR" in text]
    assert says in error
    assert "Traceback" not in run.stderr
    assert run.summary["received"] >= 1  # the summary is printed on the way out


# -- rejects a user can trace -----------------------------------------------------------------


def test_a_contact_the_api_refuses_names_its_key_line_code_and_context(
    make_sandbox, run_target, tmp_path
):
    sb = make_sandbox(scale=FEW)
    long_email = "x" * 120 + "@example.org"  # longer than GetResponse takes
    records = [
        customer(1, customer_id=1),
        {"customer_id": 2, "email": long_email, "name": "Long"},
        customer(3, customer_id=3),
    ]
    sb.faults.fail_next(1, status=400, path="/contacts/batch")  # then one by one
    lines = singer_lines(records, schema=KEYED, key_properties=("customer_id",))
    run = run_target(sb, lines)
    assert run.returncode == 0, run.stderr
    assert (run.summary["added"], run.summary["rejected"]) == (2, 1)
    [line] = rejects(tmp_path)
    assert (line["stream"], line["line"], line["key"]) == ("customers", 3, {"customer_id": 2})
    assert line["email"] == "***@example.org"
    assert line["code"] == 1000
    assert line["context"]["fieldName"] == "email"
    assert line["context"]["value"] == "***@example.org"
    assert full_emails(json.dumps(line)) == []
    assert full_emails(run.stderr) == []


def test_each_run_opens_its_rejects_with_a_marker(make_sandbox, run_target, tmp_path) -> None:
    sb = make_sandbox(scale=FEW)
    run_target(sb, singer_lines([customer(1), {"email": "bad"}]))
    run_target(sb, singer_lines([customer(2)]))  # nothing refused: the file is left alone
    run_target(sb, singer_lines([{"email": "worse"}, {"email": "worst"}]))
    lines = rejects_file(tmp_path)
    assert ["run" in line for line in lines] == [True, False, True, False, False]
    assert lines[0]["run"]["started_at"] <= lines[2]["run"]["started_at"]


# -- counts that add up -----------------------------------------------------------------------


def seed_existing(sb, *numbers: int) -> None:
    for number in numbers:
        sb.data.add_contact(customer(number)["email"], sb.data.campaigns[0]["campaignId"])


SCENARIOS = {
    # existing, merged, rejected and unreadable next to added.
    "add": (
        {},
        [customer(1), customer(1, name="Again"), customer(2), {"email": "bad"}, customer(4)],
        {"added": 2, "existing": 1, "merged": 1, "rejected": 1, "unreadable": 1},
    ),
    "upsert": (
        {"load_method": "upsert"},
        [customer(2), customer(3), customer(5), customer(5), customer(6, tags=["a b"])],
        {"added": 1, "updated": 2, "merged": 1, "rejected": 1, "unreadable": 1},
    ),
    "dry-run": (
        {"dry_run": True},
        [customer(1), customer(2), customer(2), {"name": "no email"}],
        {"added": 1, "existing": 1, "merged": 1, "rejected": 1, "unreadable": 1},
    ),
    "verify": (
        {"verify": True, "verify_timeout_seconds": 2},
        [customer(7), {"email": "someone@refused.test"}, customer(7)],
        {"added": 1, "merged": 1, "rejected": 1, "unreadable": 1},
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=list(SCENARIOS))
def test_the_summary_adds_up(make_sandbox, run_in_process, scenario) -> None:
    settings, records, expected = SCENARIOS[scenario]
    sb = make_sandbox(scale=FEW, async_delay=0.2)
    seed_existing(sb, 2, 3)
    lines = singer_lines(records).splitlines(keepends=True)
    lines.insert(2, "this line is no JSON\n")  # one unreadable line in every scenario
    run = run_in_process(sb, "".join(lines), **settings)
    assert run.exit_code == 0
    summary = run.summary
    assert summary["received"] == len(records) + 1
    assert {name: summary[name] for name in expected} == expected
    assert adds_up(summary)
