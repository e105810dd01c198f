"""tap-getresponse -> target-getresponse: contacts of one sandbox account land in another."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.sandbox import Scale

BIN = Path(sys.executable).parent


def selected_catalog(tap_config: Path, streams: set[str]) -> dict:
    discovered = subprocess.run(
        [BIN / "tap-getresponse", "--config", tap_config, "--discover"],
        capture_output=True,
        text=True,
        check=True,
    )
    catalog = json.loads(discovered.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def test_contacts_with_custom_fields_and_tags_round_trip(make_sandbox, tmp_path) -> None:
    source = make_sandbox(scale=Scale(contacts=60), seed=1)
    # Same seed: the same lists, custom fields and tags, but no contacts yet.
    destination = make_sandbox(scale=Scale(contacts=0), seed=1)
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps({"api_url": source.url, "api_key": source.api_key}))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(selected_catalog(tap_config, {"contact_details"})))
    target_config = tmp_path / "target.json"
    target_config.write_text(
        json.dumps(
            {
                "api_url": destination.url,
                "api_key": destination.api_key,
                "rejects_file": str(tmp_path / "rejects.jsonl"),
                "fail_on_reject": True,
            }
        )
    )
    tap = subprocess.Popen(
        [BIN / "tap-getresponse", "--config", tap_config, "--catalog", catalog],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    target = subprocess.run(
        [BIN / "target-getresponse", "--config", target_config],
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

    originals = list(source.data.contacts)
    assert len(originals) == 60
    for original in originals:
        campaign = original["campaign"]["campaignId"]
        [copy] = destination.data.contacts.find(original["email"], campaign)
        assert copy["name"] == original["name"]
        assert {t["tagId"] for t in copy["tags"]} == {t["tagId"] for t in original["tags"]}
        assert {(v["customFieldId"], tuple(v["value"])) for v in copy["customFieldValues"]} == {
            (v["customFieldId"], tuple(v["value"])) for v in original["customFieldValues"]
        }
