"""Custom fields as typed columns of `contact_details` (`cf_<name>`, `tag_names`)."""

from __future__ import annotations

import json
import subprocess
import typing as t

import pytest

from tap_getresponse import custom_field_columns as columns
from tests.sandbox import Scale
from tests.tap.conftest import TAP, CliRun, run_sync, sandbox_config, write_json

if t.TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ({"type": "number", "format": "text"}, {"type": ["number", "null"]}),
        ({"type": "date", "format": "text"}, {"type": ["string", "null"], "format": "date"}),
        (
            {"type": "datetime", "format": "text"},
            {"type": ["string", "null"], "format": "date-time"},
        ),
        (
            {"type": "string", "format": "checkbox"},
            {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
        ),
        (
            {"type": "string", "fieldType": "multi_select"},
            {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
        ),
        ({"type": "phone", "format": "text"}, {"type": ["string", "null"]}),
        ({"valueType": "number"}, {"type": ["number", "null"]}),
    ],
    ids=["number", "date", "datetime", "checkbox", "multi_select", "phone", "valueType"],
)
def test_a_field_becomes_a_column_of_its_type(field, expected):
    assert columns.column_schema(field) == expected


def test_fill_places_raw_values_for_the_normaliser():
    declared = columns.columns(
        [
            {"name": "age", "type": "number", "format": "text"},
            {"name": "hobbies", "type": "string", "format": "multi_select"},
            {"name": "city", "type": "string", "format": "text"},
            {"name": "nick", "type": "string", "format": "text"},
            {"type": "string"},  # no name: no column
        ]
    )
    assert set(declared) == {"cf_age", "cf_hobbies", "cf_city", "cf_nick", "tag_names"}
    record = {
        "customFieldValues": [
            {"customFieldId": "a", "name": "age", "value": ["42"]},
            {"customFieldId": "h", "name": "hobbies", "value": ["chess", "go"]},
            {"customFieldId": "c", "name": "city", "value": ["Oslo", "Bergen"]},
            {"customFieldId": "n", "name": "nick", "value": []},
            {"customFieldId": "x", "name": ["not", "a", "name"], "value": ["x"]},
            "not an object",
        ],
        "tags": [{"tagId": "t1", "name": "vip"}, {"tagId": "t2"}],
    }
    columns.Filler(declared).fill(record)
    assert record["cf_age"] == "42"
    assert record["cf_hobbies"] == ["chess", "go"]
    assert record["cf_city"] == ["Oslo", "Bergen"], "several values: the normaliser reports it"
    assert record["cf_nick"] is None
    assert record["tag_names"] == ["vip"]
    assert len(record["customFieldValues"]) == 6, "the raw values stay"


def discover(tmp: Path, config: dict[str, t.Any]) -> dict[str, t.Any]:
    """The catalog `--discover` writes for `config`."""
    config_file = write_json(tmp / "config.json", config)
    found = subprocess.run(
        [TAP, "--config", str(config_file), "--discover"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    catalog: dict[str, t.Any] = json.loads(found.stdout)
    return catalog


def details_entry(catalog: dict[str, t.Any]) -> dict[str, t.Any]:
    """The `contact_details` entry of a catalog."""
    return next(e for e in catalog["streams"] if e["tap_stream_id"] == "contact_details")


def test_without_credentials_discovery_has_no_custom_field_columns(tmp_path):
    catalog = discover(tmp_path, {})
    properties = details_entry(catalog)["schema"]["properties"]
    assert not [name for name in properties if name.startswith("cf_")]
    assert {"tag_names", "customFieldValues", "tags"} <= set(properties)


def test_custom_fields_arrive_as_typed_columns(make_sandbox, tmp_path):
    sb = make_sandbox(scale=Scale(contacts=60))
    fields = {f["name"]: f for f in sb.data.collections["custom-fields"]}
    changed = sb.data.contacts_store.contact_id(0)
    number = fields["lifetime_value"]["customFieldId"]
    sb.data.update_contact(changed, custom_fields={number: ["plenty"]})
    config = sandbox_config(sb)
    catalog = discover(tmp_path, config)
    entry = details_entry(catalog)
    properties = entry["schema"]["properties"]
    assert {name for name in properties if name.startswith("cf_")} == {
        f"cf_{name}" for name in fields
    }
    assert properties["cf_lifetime_value"]["type"] == ["number", "null"]
    assert properties["cf_birthday"]["format"] == "date"
    assert properties["cf_last_purchase"]["format"] == "date-time"
    assert properties["cf_interests"]["type"] == ["array", "null"]
    for item in catalog["streams"]:
        wanted = item["tap_stream_id"] in {"contacts", "contact_details"}
        for metadata in item["metadata"]:
            if not metadata["breadcrumb"]:
                metadata["metadata"]["selected"] = wanted
    command = [TAP, "--config", str(tmp_path / "config.json")]
    command += ["--catalog", str(write_json(tmp_path / "catalog.json", catalog))]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    run = CliRun(done.returncode, done.stdout, done.stderr)
    assert run.returncode == 0, run.stderr
    records = run.result.records["contact_details"]
    assert len(records) == 60
    by_id = {f["customFieldId"]: f["name"] for f in fields.values()}
    seen: set[str] = set()
    for record in records:
        assert record["tag_names"] == [tag["name"] for tag in record["tags"]]
        for value in record["customFieldValues"]:
            column = f"cf_{by_id[value['customFieldId']]}"
            seen.add(column)
            if record["contactId"] == changed and column == "cf_lifetime_value":
                assert record[column] is None, "not a number: null, and reported"
            elif column == "cf_lifetime_value":
                assert record[column] == float(value["value"][0])
            elif column == "cf_interests":
                assert record[column] == value["value"]
            elif column == "cf_last_purchase":
                assert record[column].endswith("+00:00")
            else:
                assert record[column] == value["value"][0]
    assert {"cf_lifetime_value", "cf_interests", "cf_birthday"} <= seen
    assert "cf_lifetime_value" in run.stderr, "the value that did not fit is reported"


def test_a_failed_custom_field_read_leaves_discovery_without_columns(make_sandbox, tmp_path):
    sb = make_sandbox(scale=Scale(contacts=5))
    sb.faults.fail_next(1, status=400, path="/custom-fields")
    config_file = write_json(tmp_path / "config.json", sandbox_config(sb))
    found = subprocess.run(
        [TAP, "--config", str(config_file), "--discover"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert found.returncode == 0, found.stderr
    assert "Stream 'contact_details': no custom field columns" in found.stderr
    assert sb.api_key not in found.stderr
    properties = details_entry(json.loads(found.stdout))["schema"]["properties"]
    assert not [name for name in properties if name.startswith("cf_")]


def test_discovered_columns_have_their_metadata(make_sandbox, tmp_path):
    sb = make_sandbox(scale=Scale(contacts=5))
    entry = details_entry(discover(tmp_path, sandbox_config(sb)))
    described = {tuple(item["breadcrumb"]) for item in entry["metadata"]}
    for name in entry["schema"]["properties"]:
        assert ("properties", name) in described, name


def test_a_run_without_a_catalog_has_tag_names_and_no_cf_columns(make_sandbox):
    sb = make_sandbox(scale=Scale(contacts=20))
    result = run_sync(sandbox_config(sb), streams=["contacts", "contact_details"])
    records = result.records["contact_details"]
    assert len(records) == 20
    assert any(record["tags"] for record in records), "the sandbox seeds tags"
    for record in records:
        assert record["tag_names"] == [tag["name"] for tag in record["tags"]]
        assert not [name for name in record if name.startswith("cf_")]
