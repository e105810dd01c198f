"""SIGKILL mid-load, then a rerun from the last STATE passed on: every change applied once.

The target CLI runs on a pipe against the sandbox, removing contacts (`process_deletes`) and
replacing tags (`tags_mode` replace). The sandbox kills it (SIGKILL, no grace) when the N-th change
request arrives, and refuses whatever the killed process still sends, so the kill lands at the same
point every run. The rerun gets the input after the last STATE the killed run passed on, as a tap
restarted from that state would send it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from tests.sandbox import Scale
from tests.target.conftest import TARGET, adds_up

WAIT = 120  # seconds before a run is called stuck
FIRST, RERUN = "kill-test-first-run", "kill-test-rerun"
#: The target with the SDK's record-age drain at every record: each STATE read is passed on
#: right after the records before it are loaded (a long run does this every 5 minutes).
DRAIN_EVERY_RECORD = [
    sys.executable,
    "-c",
    (
        "from target_getresponse.target import TargetGetResponse as T; "
        "T._MAX_RECORD_AGE_IN_MINUTES = 0.0; T.cli()"
    ),
]
DELETED_AT = "2026-01-02T03:04:05+00:00"
SCHEMA = {
    "type": "object",
    "properties": {
        "email": {"type": ["string", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def listed(count: int) -> list[str]:
    return [f"member{i}@shop.example.org" for i in range(count)]


def changes(members: list[str], new: int) -> list[dict]:
    """Remove every third member, replace the others' tags (or clear them), add `new` contacts."""
    records: list[dict] = []
    step = len(members) // new
    for i, email in enumerate(members):
        if i % 3 == 0:
            records.append({"email": email, "_sdc_deleted_at": DELETED_AT})
        else:
            records.append({"email": email, "tags": ["newsletter", "beta"] if i % 3 == 1 else []})
        if i % step == 1 and i // step < new:
            records.append({"email": f"new{i}@shop.example.org", "tags": ["trial"]})
    return records


def lines(records: list[dict], *, start: int = 0, state_every: int = 3) -> bytes:
    """SCHEMA, then records[start:] with a STATE (records done so far) every few and at the end."""
    out = [{"type": "SCHEMA", "stream": "people", "schema": SCHEMA, "key_properties": ["email"]}]
    for done, record in enumerate(records[start:], start=start + 1):
        out.append({"type": "RECORD", "stream": "people", "record": record})
        if done % state_every == 0 or done == len(records):
            out.append({"type": "STATE", "value": {"bookmarks": {"people": {"done": done}}}})
    return ("\n".join(json.dumps(line) for line in out) + "\n").encode()


def is_change(entry) -> bool:
    """A removal or a tag replacement (`deleteContact`, `updateContact`)."""
    one_contact = entry.path.startswith("/contacts/") and entry.path.count("/") == 2
    return one_contact and entry.method in {"DELETE", "POST"} and entry.path != "/contacts/batch"


class KillSwitch:
    """Kills the first run when its N-th change request arrives; refuses what it sends after."""

    def __init__(self, sb, at: int, *, apply_last: bool) -> None:
        self.at = at
        self.apply_last = apply_last
        self.seen = 0
        self.pid: int | None = None
        self.started = threading.Event()
        self.killed = threading.Event()
        sb.on_request = self.on_request

    def on_request(self, entry) -> None:
        if entry.user_agent != FIRST:
            return
        if self.killed.is_set():
            msg = "sent by the killed run"
            raise RuntimeError(msg)  # answered 500 and not applied: it never arrived
        if not is_change(entry):
            return
        self.seen += 1
        if self.seen == self.at:
            assert self.started.wait(WAIT)
            assert self.pid is not None
            os.kill(self.pid, signal.SIGKILL)
            self.killed.set()
            if not self.apply_last:
                msg = "killed before this request was applied"
                raise RuntimeError(msg)


def config(sb, tmp_path, user_agent: str) -> str:
    settings = {
        "api_url": sb.url,
        "api_key": sb.api_key,
        "campaign_id": sb.data.campaigns[0]["campaignId"],
        "rejects_file": str(tmp_path / "rejects.jsonl"),
        "process_deletes": True,
        "tags_mode": "replace",
        "user_agent": user_agent,
    }
    path = tmp_path / f"{user_agent}.json"
    path.write_text(json.dumps(settings))
    return str(path)


def killed_run(sb, tmp_path, command: list[str], given: bytes, switch: KillSwitch) -> list[dict]:
    """Run until the switch kills it; the STATEs it passed on."""
    out = tmp_path / "first.out"
    with out.open("wb") as stdout, tmp_path.joinpath("first.err").open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--config", config(sb, tmp_path, FIRST)],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
        )
        switch.pid = process.pid
        switch.started.set()
        with contextlib.suppress(BrokenPipeError):
            assert process.stdin is not None
            process.stdin.write(given)
            process.stdin.close()
        assert process.wait(WAIT) == -signal.SIGKILL, tmp_path.joinpath("first.err").read_text()
    # What the killed run had sent is answered (or refused) before the rerun starts.
    deadline = time.monotonic() + WAIT
    while any(entry.finished is None for entry in sb.log):
        assert time.monotonic() < deadline, "the sandbox is still answering the killed run"
        time.sleep(0.01)
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def rerun(sb, tmp_path, given: bytes) -> dict[str, int]:
    result = subprocess.run(
        [TARGET, "--config", config(sb, tmp_path, RERUN)],
        input=given,
        capture_output=True,
        timeout=WAIT,
        check=False,
    )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    line = next(line for line in stderr.splitlines() if "summary:" in line)
    return {k: int(v) for k, v in (pair.split("=") for pair in line.split("summary:")[1].split())}


def not_applied(sb, records: list[dict]) -> list[str]:
    """The records whose contact is not in the state the record asks for."""
    campaign = sb.data.campaigns[0]["campaignId"]
    wrong = []
    for record in records:
        found = sb.data.contacts.find(record["email"], campaign)
        if "_sdc_deleted_at" in record:
            ok = not found
        else:
            ok = len(found) == 1 and {t["name"] for t in found[0]["tags"]} == set(record["tags"])
        if not ok:
            wrong.append(record["email"])
    return wrong


def load_list(sb, members: list[str]) -> dict[str, str]:
    """The members on the list, tagged `vip`: their contact ids by email."""
    campaign = sb.data.campaigns[0]["campaignId"]
    vip = next(str(tag["tagId"]) for tag in sb.data.tags if tag["name"] == "vip")
    return {email: sb.data.add_contact(email, campaign, tags=[vip]) for email in members}


def applied_once(sb) -> None:
    """No contact removed twice: the rerun sends no DELETE for one the killed run removed."""
    removed = Counter(e.path for e in sb.log if e.method == "DELETE" and e.status == 204)
    assert max(removed.values()) == 1
    first = {p for e in sb.log if e.user_agent == FIRST and e.status == 204 for p in [e.path]}
    again = {e.path for e in sb.log if e.user_agent == RERUN and e.method == "DELETE"}
    assert not first & again


def kill_and_rerun(sb, tmp_path, records, command, switch) -> tuple[list[dict], dict[str, int]]:
    """The killed run and the rerun from its last STATE; checks what both must hold."""
    states = killed_run(sb, tmp_path, command, lines(records), switch)
    done = states[-1]["bookmarks"]["people"]["done"] if states else 0
    # A STATE passed on only once every record before it was applied: the killed run can no
    # longer change anything, and the records its last STATE covers are all in place.
    assert not_applied(sb, records[:done]) == []
    assert not_applied(sb, records) != [], "the kill came after the last change"
    summary = rerun(sb, tmp_path, lines(records, start=done))
    assert not_applied(sb, records) == []
    assert summary["received"] == len(records) - done
    assert summary["rejected"] == 0
    assert adds_up(summary), summary
    applied_once(sb)
    return states, summary


def test_a_kill_between_states_reruns_from_the_last_one(make_sandbox, tmp_path):
    sb = make_sandbox(scale=Scale(contacts=0))
    members = listed(30)
    ids = load_list(sb, members)
    records = changes(members, new=4)
    switch = KillSwitch(sb, at=12, apply_last=False)
    states, _ = kill_and_rerun(sb, tmp_path, records, DRAIN_EVERY_RECORD, switch)
    assert states, "STATEs were passed on before the kill"
    done = states[-1]["bookmarks"]["people"]["done"]
    # Nothing the last STATE covers is sent again.
    covered = {f"/contacts/{ids[r['email']]}" for r in records[:done] if r["email"] in ids}
    assert not [e for e in sb.log if e.user_agent == RERUN and e.path in covered]
    added = [c["email"] for e in sb.log if e.user_agent == RERUN and e.body for c in batch(e)]
    assert not {r["email"] for r in records[:done]} & set(added)


def batch(entry) -> list[dict]:
    """The contacts of a `POST /contacts/batch`."""
    return entry.body["contacts"] if entry.path == "/contacts/batch" else []


@pytest.mark.parametrize("at", [5, 26], ids=["during-removals", "during-tag-replacements"])
def test_a_kill_with_requests_in_flight_applies_everything_once(make_sandbox, tmp_path, at):
    sb = make_sandbox(scale=Scale(contacts=0))
    members = listed(60)
    load_list(sb, members)
    records = changes(members, new=5)
    # One batch: 20 removals, then 40 tag replacements, 10 at a time; the killing one applied.
    switch = KillSwitch(sb, at=at, apply_last=True)
    kill_and_rerun(sb, tmp_path, records, [TARGET], switch)
