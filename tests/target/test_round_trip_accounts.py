"""tap-getresponse -> target-getresponse between two accounts, and again after changes in one.

Account B is loaded from account A; then contacts are removed from A and tags changed there, and
the tap's next run (from its state) carries both to B: `contacts` emits the removals
(`_sdc_deleted_at`, a soft delete), `contact_details` the tags, and the target runs with
`process_deletes` and `tags_mode` replace. B's lists then hold exactly A's contacts, with A's tags.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.sandbox import Scale
from tests.tap.conftest import next_second
from tests.target.test_round_trip import selected_catalog

BIN = Path(sys.executable).parent


class Pipe:
    """tap-getresponse on A piped into target-getresponse on B; the STATE B passed on is kept."""

    def __init__(self, source, destination, workdir: Path) -> None:
        self.workdir = workdir
        self.tap_config = workdir / "tap.json"
        self.tap_config.write_text(json.dumps({"api_url": source.url, "api_key": source.api_key}))
        self.catalog = workdir / "catalog.json"
        streams = {"contacts", "contact_details"}
        self.catalog.write_text(json.dumps(selected_catalog(self.tap_config, streams)))
        self.target_config = workdir / "target.json"
        settings = {
            "api_url": destination.url,
            "api_key": destination.api_key,
            "rejects_file": str(workdir / "rejects.jsonl"),
            "fail_on_reject": True,
            "process_deletes": True,
            "tags_mode": "replace",
        }
        self.target_config.write_text(json.dumps(settings))
        self.state: dict | None = None

    def run(self) -> str:
        """One tap run from the kept state into the target; the target's log."""
        command = [BIN / "tap-getresponse", "--config", self.tap_config, "--catalog", self.catalog]
        if self.state is not None:
            state_file = self.workdir / "state.json"
            state_file.write_text(json.dumps(self.state))
            command += ["--state", state_file]
        tap = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        target = subprocess.run(
            [BIN / "target-getresponse", "--config", self.target_config],
            stdin=tap.stdout,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert tap.stdout is not None
        tap.stdout.close()
        assert tap.wait(timeout=60) == 0
        assert target.returncode == 0, target.stderr
        states = [json.loads(line) for line in target.stdout.splitlines() if line.strip()]
        assert states, "the target passed on the tap's STATE"
        self.state = states[-1]
        return target.stderr


def lists(sb) -> dict[tuple[str, str], set[str]]:
    """Every contact on every list: (list id, email) -> its tags' names."""
    return {
        (c["campaign"]["campaignId"], c["email"].lower()): {tag["name"] for tag in c["tags"]}
        for c in sb.data.contacts
    }


def summary(log: str) -> dict[str, int]:
    line = next(line for line in log.splitlines() if "summary:" in line)
    return {k: int(v) for k, v in (pair.split("=") for pair in line.split("summary:")[1].split())}


def test_removals_and_exact_tags_reach_the_other_account(make_sandbox, tmp_path) -> None:
    source = make_sandbox(scale=Scale(contacts=60), seed=1)
    # Same seed: the same lists, custom fields and tag ids, but no contacts yet.
    destination = make_sandbox(scale=Scale(contacts=0), seed=1)
    pipe = Pipe(source, destination, tmp_path)
    pipe.run()
    assert lists(destination) == lists(source)

    contacts = list(source.data.contacts)
    removed = contacts[:8]
    for contact in removed:
        source.data.delete_contact(contact["contactId"])
    tags = {tag["name"]: str(tag["tagId"]) for tag in source.data.tags}
    retagged = {
        contacts[8]["contactId"]: [],  # every tag removed
        contacts[9]["contactId"]: [tags["vip"], tags["beta"]],
        contacts[10]["contactId"]: [tags["partner"]],
    }
    for contact_id, tag_ids in retagged.items():
        source.data.update_contact(contact_id, tags=tag_ids)
    changed = lists(source)
    assert {(c["campaign"]["campaignId"], c["email"].lower()) for c in removed}.isdisjoint(changed)
    assert changed != lists(destination)

    # A run's windows end a second before it starts: changes of that second are the next run's.
    # (The run below once started within the second of these changes and read none of them.)
    next_second()
    log = pipe.run()
    assert lists(destination) == changed
    counts = summary(log)
    assert counts["removed"] >= len(removed)  # and removals from before the first run: none on B
    assert counts["updated"] >= len(retagged)
    assert counts["rejected"] == 0
    assert len([e for e in destination.log if e.method == "DELETE"]) == len(removed)
