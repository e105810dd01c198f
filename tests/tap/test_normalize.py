"""RecordNormaliser: every conversion, every value that does not fit, and the stream schemas."""

from __future__ import annotations

import copy
import logging

import jsonschema
import pendulum
import pytest

from tap_getresponse.normalize import RecordNormaliser, interval_start, normalise_datetime
from tap_getresponse.schemas import load_schema, schema_names
from tap_getresponse.value_report import StrictValuesError, ValueReport

LOGGER = logging.getLogger("tests.normalize")

NULLABLE = {
    "boolean": {"type": ["boolean", "null"]},
    "integer": {"type": ["integer", "null"]},
    "number": {"type": ["number", "null"]},
    "date-time": {"type": ["string", "null"], "format": "date-time"},
    "date": {"type": ["string", "null"], "format": "date"},
    "flags": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
}


def one_field(kind, *, strict=False):
    return RecordNormaliser(
        {"type": "object", "properties": {"f": NULLABLE[kind]}},
        stream_name="things",
        report=ValueReport("things", LOGGER, strict=strict),
    )


def convert(kind, value):
    return one_field(kind).normalise({"f": value})["f"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("false", False),
        ("TRUE", True),
        (" False ", False),
        ("1", True),
        ("0", False),
        ("yes", True),
        ("No", False),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
    ],
    ids=repr,
)
def test_boolean(raw, expected):
    assert convert("boolean", raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("123", 123),
        (" 42 ", 42),
        ("-7", -7),
        ("+3", 3),
        ("12.0", 12),
        (12.0, 12),
        (5, 5),
        ("1e3", 1000),
    ],
    ids=repr,
)
def test_integer(raw, expected):
    result = convert("integer", raw)
    assert result == expected
    assert result is None or type(result) is int


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.32", 0.32),
        ("15", 15),
        ("-0.5", -0.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        (1.5, 1.5),
        (7, 7),
    ],
    ids=repr,
)
def test_number(raw, expected):
    result = convert("number", raw)
    assert result == expected
    assert result is None or type(result) in {int, float}


def test_number_keeps_integer_strings_integral():
    assert type(convert("number", "15")) is int
    assert type(convert("number", "0.32")) is float


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2017-12-19T13:11:48+0000", "2017-12-19T13:11:48+00:00"),
        ("2017-12-19T13:11:48+00:00", "2017-12-19T13:11:48+00:00"),
        ("2017-12-19T13:11:48-0530", "2017-12-19T13:11:48-05:30"),
        ("2017-12-19T13:11:48+02", "2017-12-19T13:11:48+02:00"),
        ("2017-12-19T13:11:48Z", "2017-12-19T13:11:48+00:00"),
        ("2017-12-19T13:11:48.123+0100", "2017-12-19T13:11:48.123+01:00"),
        ("2017-12-19T13:11:48,5+0000", "2017-12-19T13:11:48.5+00:00"),
        # /lps createdAt: GMT without an offset (OpenAPI schema `LpsListItem`)
        ("2023-03-14T14:42:57", "2023-03-14T14:42:57+00:00"),
        ("2023-03-14 14:42:57", "2023-03-14T14:42:57+00:00"),
        ("2023-03-14T14:42", "2023-03-14T14:42:00+00:00"),
        ("2023-03-14", "2023-03-14T00:00:00+00:00"),
    ],
    ids=repr,
)
def test_datetime(raw, expected):
    assert convert("date-time", raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "2017-12-19T13:11:48+0000",
        "2017-12-19T13:11:48-0530",
        "2017-12-19T13:11:48.123+0100",
        "2023-03-14T14:42:57",
        "2023-03-14T14:42:57Z",
    ],
)
def test_datetime_is_the_instant_pendulum_reads(raw):
    converted = convert("date-time", raw)
    assert pendulum.parse(converted) == pendulum.parse(raw, tz="UTC")
    assert jsonschema.FormatChecker().conforms(converted, "date-time")


def test_date_stays_date_only():
    assert convert("date", "2014-12-15") == "2014-12-15"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("clicktrack,google_analytics", ["clicktrack", "google_analytics"]),
        (" clicktrack , google_analytics ,", ["clicktrack", "google_analytics"]),
        ("clicktrack", ["clicktrack"]),
        ("", []),
        (["clicktrack"], ["clicktrack"]),
        ([], []),
    ],
    ids=repr,
)
def test_comma_string_becomes_list(raw, expected):
    assert convert("flags", raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("boolean", ""),
        ("integer", ""),
        ("number", " "),
        ("date-time", ""),
        ("date", ""),
        ("boolean", "maybe"),
        ("boolean", 2),
        ("boolean", 1.0),
        ("boolean", []),
        ("integer", "12.5"),
        ("integer", "abc"),
        ("integer", "1_000"),
        ("integer", "0x10"),
        ("integer", True),
        ("integer", 1.5),
        ("integer", {}),
        ("number", "abc"),
        ("number", "nan"),
        ("number", "inf"),
        ("number", "1,5"),
        ("number", "1e999"),
        ("number", False),
        ("number", {"value": 1}),
        ("date-time", "yesterday"),
        ("date-time", "2017-13-01T00:00:00+0000"),
        ("date-time", "2017-12-19T25:00:00+0000"),
        ("date-time", "2017-12-19T13:11:48+2500"),
        ("date-time", "19.12.2017 13:11"),
        ("date-time", 1513689108),
        ("date", "2014-02-30"),
        ("date", "2014-12-15T00:00:00+0000"),
        ("date", 20141215),
        ("date-time", ["2017-12-19T13:11:48+0000"]),
        ("flags", 7),
        ("flags", {"clicktrack": True}),
    ],
    ids=repr,
)
def test_a_value_that_does_not_fit_becomes_null_and_is_reported(kind, raw, caplog):
    normaliser = one_field(kind)
    with caplog.at_level(logging.WARNING):
        assert normaliser.normalise({"f": raw}) == {"f": None}
    assert normaliser.report.counts == {"f": 1}
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith(f"stream 'things', field 'f': expected {_expected(kind)}, got ")


def _expected(kind):
    return "array" if kind == "flags" else kind


@pytest.mark.parametrize(("kind", "raw"), [("integer", "abc"), ("date-time", ""), ("flags", 7)])
def test_strict_values_stops_at_the_first_value_naming_stream_and_field(kind, raw):
    with pytest.raises(StrictValuesError) as err:
        one_field(kind, strict=True).normalise({"f": raw})
    assert str(err.value) == (
        f"strict_values: stream 'things', field 'f': expected {_expected(kind)}, got {raw!r}"
    )
    assert (
        err.value.with_record({"id": "A"})
        .args[0]
        .startswith("strict_values: stream 'things', field 'f', record {'id': 'A'}: ")
    )


def test_nested_array_path_is_named_and_the_rest_of_the_record_kept():
    normaliser = RecordNormaliser(load_schema("products"), stream_name="products")
    record = {
        "productId": "P",
        "variants": [{"price": "20", "images": [{"position": "1"}, {"position": "first"}]}],
    }
    assert normaliser.normalise(record) == {
        "productId": "P",
        "variants": [{"price": 20, "images": [{"position": 1}, {"position": None}]}],
    }
    assert normaliser.report.counts == {"variants[].images[].position": 1}


def test_one_warning_per_field_and_every_value_counted(caplog):
    normaliser = RecordNormaliser(load_schema("newsletters"), stream_name="newsletters")
    with caplog.at_level(logging.WARNING):
        for rate in ("n/a", "-", "?", "0.5"):
            normaliser.normalise({"sendMetrics": {"clickRate": rate, "openRate": rate}})
    assert normaliser.report.counts == {"sendMetrics.clickRate": 3, "sendMetrics.openRate": 3}
    warnings = sorted(r.getMessage() for r in caplog.records)
    assert len(warnings) == 2
    assert warnings[0].startswith(
        "stream 'newsletters', field 'sendMetrics.clickRate': expected number, got 'n/a'; "
        "set to null."
    )
    assert normaliser.report.summary() == [
        f"Stream 'newsletters', field 'sendMetrics.{name}': 3 value(s) set to null "
        "(expected number; e.g. 'n/a')"
        for name in ("clickRate", "openRate")
    ]


def test_warnings_mask_addresses_and_cut_long_values(caplog):
    normaliser = RecordNormaliser(
        {"properties": {"n": NULLABLE["integer"], "m": NULLABLE["integer"]}}, stream_name="s"
    )
    with caplog.at_level(logging.WARNING):
        normaliser.normalise({"n": "x" * 500, "m": "write to jane.doe+x@example.com"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "jane" not in text
    assert "'write to ***@example.com'" in text
    assert "x" * 58 not in text
    assert "'xxx" in text


def test_a_record_that_is_not_an_object_is_skipped_and_reported():
    normaliser = RecordNormaliser(load_schema("tags"), stream_name="tags")
    assert normaliser.normalise(["tagId", "T"]) is None
    assert normaliser.normalise("T") is None
    assert normaliser.report.counts == {"": 2}
    assert normaliser.report.summary()[0].startswith("Stream 'tags', item: 2 value(s) skipped")


def test_numbers_and_booleans_in_string_fields_become_their_json_text():
    normaliser = RecordNormaliser(load_schema("contacts"), stream_name="contacts")
    record = normaliser.normalise(
        {"contactId": 12, "name": 1.5, "note": True, "origin": {"o": 1}, "campaign": {"name": 3}}
    )
    assert record == {
        "contactId": "12",
        "name": "1.5",
        "note": "true",
        "origin": None,
        "campaign": {"name": "3"},
    }
    assert normaliser.report.counts == {"origin": 1}


def test_scalars_where_objects_or_arrays_are_declared():
    normaliser = RecordNormaliser(load_schema("contact_details"), stream_name="contact_details")
    record = normaliser.normalise(
        {"campaign": "C", "geolocation": [], "tags": "vip", "customFieldValues": [7, None]}
    )
    assert record == {
        "campaign": None,
        "geolocation": None,
        "tags": None,
        "customFieldValues": [None, None],
    }
    assert normaliser.report.counts == {
        "campaign": 1,
        "geolocation": 1,
        "tags": 1,
        "customFieldValues[]": 1,
    }
    validator(load_schema("contact_details")).validate(record)


def test_values_outside_an_enum_become_null():
    normaliser = RecordNormaliser(
        {"properties": {"status": {"type": ["string", "null"], "enum": ["on", "off", None]}}},
        stream_name="s",
    )
    assert normaliser.normalise({"status": "on"}) == {"status": "on"}
    assert normaliser.normalise({"status": "paused"}) == {"status": None}
    assert normaliser.report.counts == {"status": 1}


def test_newsletter_list_item():
    normaliser = RecordNormaliser(load_schema("newsletters"), stream_name="newsletters")
    raw = {
        "newsletterId": "N",
        "name": "New message",
        "sendOn": "2024-07-14T07:00:00+0000",
        "createdOn": "2024-07-13T07:00:00+0000",
        "sendSettings": {"timeTravel": "true", "perfectTiming": "false"},
        "sendMetrics": {
            "status": "finished",
            "sent": "123",
            "total": "150",
            "delivered": "99",
            "openRate": "0.32",
            "clickRate": "0.23",
            "humanOpenRate": "0.12",
            "humanClickRate": "0.13",
        },
        "flags": "clicktrack,google_analytics",
        "campaign": {"campaignId": "C", "href": "https://example.invalid/C", "name": None},
    }
    record = normaliser.normalise(copy.deepcopy(raw) | {"somethingNew": "dropped"})
    assert record == raw | {
        "sendOn": "2024-07-14T07:00:00+00:00",
        "createdOn": "2024-07-13T07:00:00+00:00",
        "sendSettings": {"timeTravel": True, "perfectTiming": False},
        "sendMetrics": {
            "status": "finished",
            "sent": 123,
            "total": 150,
            "delivered": 99,
            "openRate": 0.32,
            "clickRate": 0.23,
            "humanOpenRate": 0.12,
            "humanClickRate": 0.13,
        },
        "flags": ["clicktrack", "google_analytics"],
    }
    validator(load_schema("newsletters")).validate(record)


def test_normalises_in_place_and_returns_the_record():
    record = {"isDefault": "true"}
    assert RecordNormaliser(load_schema("campaigns")).normalise(record) is record
    assert record == {"isDefault": True}


def test_leaves_nulls_missing_keys_and_strings_alone():
    normaliser = RecordNormaliser(load_schema("contact_details"))
    record = {
        "campaign": None,
        "geolocation": None,
        "tags": None,
        "scoring": None,
        "note": "true",  # strings stay strings
        "dayOfCycle": "42",
    }
    assert normaliser.normalise(copy.deepcopy(record)) == record
    assert normaliser.normalise({}) == {}
    assert not normaliser.report.counts


def test_arrays_of_objects_and_null_items():
    normaliser = RecordNormaliser(load_schema("products"))
    record = normaliser.normalise(
        {
            "variants": [
                {"price": "20", "priceTax": "27.5", "images": [{"position": "1"}, None]},
                None,
            ],
            "categories": [{"isDefault": "false"}],
        }
    )
    assert record == {
        "variants": [{"price": 20, "priceTax": 27.5, "images": [{"position": 1}, None]}, None],
        "categories": [{"isDefault": False}],
    }


def test_sdk_style_anyof_nullable_types():
    schema = {
        "properties": {
            "b": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
            "d": {"oneOf": [{"type": "null"}, {"type": "string", "format": "date-time"}]},
            "mixed": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        }
    }
    record = RecordNormaliser(schema).normalise(
        {"b": "yes", "d": "2017-12-19T13:11:48+0000", "mixed": "12"}
    )
    assert record == {"b": True, "d": "2017-12-19T13:11:48+00:00", "mixed": "12"}


def test_compiled_once_and_never_reads_the_schema_again():
    schema = load_schema("newsletters")
    normaliser = RecordNormaliser(schema)
    schema.clear()
    assert normaliser.normalise({"sendMetrics": {"sent": "5"}}) == {"sendMetrics": {"sent": 5}}


def test_conversions_lists_the_compiled_paths():
    conversions = RecordNormaliser(load_schema("newsletters")).conversions
    assert conversions["sendSettings.perfectTiming"] == "boolean"
    assert conversions["sendMetrics.sent"] == "integer"
    assert conversions["sendMetrics.openRate"] == "number"
    assert conversions["createdOn"] == "date-time"
    assert conversions["flags"] == "comma-list"
    assert "name" not in conversions


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2014-09-20T00:00:00+0000/P2M18DT10H0M0S", "2014-09-20T00:00:00+00:00"),
        ("2014-09-20T10:00:00+0200/PT1H", "2014-09-20T10:00:00+02:00"),
        ("2014-09-20/P1D", "2014-09-20T00:00:00+00:00"),
    ],
)
def test_interval_start(raw, expected):
    assert interval_start(raw) == expected


def test_normalise_datetime_rejects_garbage():
    with pytest.raises(ValueError, match="not a timestamp"):
        normalise_datetime("total")


# --- every stream: a record the way GetResponse sends it validates after normalisation ---


def validator(schema):
    checker = jsonschema.FormatChecker()
    # the check is only meaningful if the format checker really rejects colon-less offsets
    assert not checker.conforms("2017-12-19T13:11:48+0000", "date-time")
    return jsonschema.Draft7Validator(schema, format_checker=checker)


WIRE_SCALARS = {"boolean": "false", "integer": "12", "number": "0.25", "string": "text"}
WIRE_FORMATS = {"date-time": "2017-12-19T13:11:48+0000", "date": "2014-12-15"}


def wire_value(schema, name):
    """A value shaped like GetResponse's wire format for a property of `schema`."""
    kinds = set(schema.get("type") or []) - {"null"}
    if kinds == {"object"}:
        props = schema.get("properties", {})
        return {key: wire_value(child, key) for key, child in props.items()}
    if kinds == {"array"}:
        if name == "flags":
            return "clicktrack,google_analytics"
        return [wire_value(schema["items"], name), None]
    if schema.get("format") == "date-time" and name.endswith("At"):
        return "2023-03-14T14:42:57"  # /lps: GMT without an offset
    if "format" in schema:
        return WIRE_FORMATS[schema["format"]]
    # untyped in the spec: anything goes
    return WIRE_SCALARS[kinds.pop()] if kinds else {"anything": ["goes"]}


@pytest.mark.parametrize("stream", schema_names())
def test_wire_record_validates_after_normalisation(stream):
    schema = load_schema(stream)
    raw = wire_value(schema | {"type": ["object"]}, stream)
    validator(schema).validate(RecordNormaliser(schema, stream_name=stream).normalise(raw))


@pytest.mark.parametrize("stream", schema_names())
def test_all_null_record_validates(stream):
    schema = load_schema(stream)
    raw = dict.fromkeys(schema["properties"])
    validator(schema).validate(RecordNormaliser(schema).normalise(raw))


def test_undeclared_keys_are_dropped_at_every_level_with_one_warning_per_path(caplog):
    normaliser = RecordNormaliser(load_schema("products"), stream_name="products")
    for _ in range(3):
        record = normaliser.normalise(
            {
                "productId": "p",
                "surprise": 1,
                "variants": [{"price": "20", "extra": "x", "images": [{"position": "1", "z": 0}]}],
            }
        )
        assert record == {
            "productId": "p",
            "variants": [{"price": 20, "images": [{"position": 1}]}],
        }
    warnings = [r.getMessage() for r in caplog.records if "not found in its schema" in r.message]
    assert len(warnings) == 3
    assert normaliser.dropped == {"surprise", "variants[].extra", "variants[].images[].z"}


def test_objects_without_declared_properties_keep_every_key():
    schema = {"properties": {"free": {"type": ["object", "null"]}}}
    record = {"free": {"anything": "goes"}}
    assert RecordNormaliser(schema).normalise(copy.deepcopy(record)) == record


# --- every stream: a record with a misfit in every field still validates, each misfit counted ---

#: A value of the wrong type for each declared type (a scalar for containers, a container for
#: scalars, text that is no number, date or boolean).
MISFITS = {
    "object": True,
    "array": 7,
    "boolean": "maybe",
    "integer": "12 apples",
    "number": {"n": 1},
    "string": ["text"],
    "date-time": "",
    "date": "yesterday",
}


def misfit_record(schema, path=""):
    """A record whose every typed leaf holds a misfit, and the paths expected to be reported."""
    record, paths = {}, []
    for key, child in schema.get("properties", {}).items():
        kinds = set(child.get("type") or []) - {"null"}
        if not kinds:
            continue  # untyped: anything goes
        (kind,) = kinds
        field = f"{path}.{key}" if path else key
        if kind == "object" and "properties" in child:
            record[key], nested = misfit_record(child, field)
            paths += nested
            continue
        record[key] = MISFITS[child.get("format", kind)]
        paths.append(field)
    return record, paths


@pytest.mark.parametrize("stream", schema_names())
def test_a_record_of_misfits_validates_and_every_misfit_is_counted(stream):
    schema = load_schema(stream)
    raw, paths = misfit_record(schema)
    normaliser = RecordNormaliser(schema, stream_name=stream)
    record = normaliser.normalise(raw)
    validator(schema).validate(record)
    assert normaliser.report.counts == dict.fromkeys(paths, 1)
