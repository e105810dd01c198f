"""RecordNormaliser.normalise_page: a page checked by msgspec (page_check.py) comes out as the
record-by-record normaliser leaves it, byte for byte, with the same reports in the same order.

Every stream schema (contact_details with a column per custom field) gets pages drawn from the
schema itself, mostly values that fit (the pages msgspec passes), with values of the wrong type,
undeclared keys and elements that are no object mixed in (the pages it must send to the
normaliser). Each page goes through two normalisers of the same schema: one record at a time,
and a page at a time; the JSON text of the records, the reports (field, expected, value, action)
and the undeclared-key warnings must be the same, and a `strict_values` stop must name the same
value and record.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import typing as t

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap_getresponse import custom_field_columns, page_check
from tap_getresponse.normalize import RecordNormaliser
from tap_getresponse.page_check import PageCheck
from tap_getresponse.schemas import load_schema, schema_names
from tap_getresponse.value_report import StrictValuesError, ValueReport
from tests.tap.generated import any_json, strategy

LOGGER = logging.getLogger("tests.page_check")

#: The sandbox's custom fields (one of each type and format the tap types differently).
FIELDS = [
    {"name": "age", "type": "string", "format": "single_select"},
    {"name": "birthday", "type": "date", "format": "text"},
    {"name": "lifetime_value", "type": "number", "format": "text"},
    {"name": "interests", "type": "string", "format": "multi_select"},
    {"name": "last_purchase", "type": "datetime", "format": "text"},
]


def stream_schema(name: str) -> dict[str, t.Any]:
    schema = load_schema(name)
    if name == "contact_details":
        schema["properties"].update(custom_field_columns.columns(FIELDS))
    return schema


class RecordingReport(ValueReport):
    """A ValueReport that keeps every bad value it is told of, in order."""

    def __init__(self, *, strict: bool = False) -> None:
        super().__init__("things", LOGGER, strict=strict)
        self.told: list[tuple[str, str, str, str]] = []

    def bad(self, field, expected, value, *, record=None, action="nulled"):  # type: ignore[no-untyped-def]
        self.told.append((field, expected, repr(value), action))
        super().bad(field, expected, value, record=record, action=action)


def pages(schema: dict[str, t.Any]) -> st.SearchStrategy[list[t.Any]]:
    """Pages of records of `schema`, now and then a record with something odd in it."""
    fitting = strategy(schema)
    odd = st.one_of(
        st.tuples(fitting, st.text(max_size=8), any_json()).map(lambda r: {**r[0], r[1]: r[2]}),
        st.tuples(fitting, st.sampled_from(sorted(schema["properties"])), any_json()).map(
            lambda r: {**r[0], r[1]: r[2]}
        ),
        any_json(),
    )
    return st.lists(st.one_of(fitting, fitting, fitting, odd), max_size=4)


def both_ways(schema: dict[str, t.Any], page: list[t.Any], *, strict: bool = False) -> tuple:
    """(text, reports, warnings, stop) of `page` record by record, then a page at a time."""
    outcomes = []
    for at_once in (False, True):
        report = RecordingReport(strict=strict)
        normaliser = RecordNormaliser(schema, stream_name="things", logger=LOGGER, report=report)
        rows = copy.deepcopy(page)
        stop = None
        try:
            if at_once:
                records = normaliser.normalise_page(rows, ("contactId",))
            else:
                records = []
                for row in rows:
                    try:
                        record = normaliser.normalise(row)
                    except StrictValuesError as error:
                        named = {"contactId": row.get("contactId")} if type(row) is dict else {}
                        raise error.with_record(named) from None
                    if record is not None:
                        records.append(record)
        except StrictValuesError as error:
            stop, records = str(error), []
        outcomes.append((json.dumps(records), report.told, sorted(normaliser.dropped), stop))
    return tuple(outcomes)


@pytest.mark.parametrize("name", schema_names())
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_page_at_a_time_is_the_normaliser_record_by_record(name, data):
    schema = stream_schema(name)
    page = data.draw(pages(schema))
    strict = data.draw(st.booleans())
    by_record, by_page = both_ways(schema, page, strict=strict)
    assert by_page == by_record


def test_every_stream_schema_compiles_to_a_page_check():
    # A schema msgspec could not check would silently lose the fast path: none does today.
    missing = [name for name in schema_names() if PageCheck.compile(stream_schema(name)) is None]
    assert missing == []


CONTACT = {
    "contactId": "0I8LT",
    "name": "Ivan Wojcik",
    "campaign": {"campaignId": "pNgv", "name": "webinar_guests"},
    "changedOn": "2025-01-01T00:05:20+0000",
    "createdOn": "2025-01-01T00:05:20Z",
    "engagementScore": 2,
    "scoring": 36.5,
}


@pytest.mark.parametrize(
    ("change", "fit"),
    [
        ({}, True),  # the usual page: checked strictly, only timestamps rewritten
        ({"scoring": "36.5"}, False),  # a number as text: the normaliser converts it
        ({"engagementScore": True}, False),  # a boolean for an integer: reported and nulled
        ({"scoring": False}, False),  # a boolean for a number: likewise
        ({"campaign": {"name": 7}}, None),  # a nested value of another type
        ({"email": 5}, None),  # a number for a string: the page goes record by record
        ({"campaign": {"campaignId": "x", "extra": 1}}, None),  # an undeclared nested key
        ({"surprise": 1}, None),  # an undeclared key
        ({"changedOn": "yesterday"}, None),  # not a timestamp: the page goes record by record
        ({"changedOn": "2025-13-01T00:00:00+0000"}, None),  # month 13: likewise
        ({"changedOn": "2025-01-01 00:05:20"}, True),  # odd but valid: the converter's
        ({"changedOn": None}, True),
        ({"changedOn": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}, True),  # not text: reported
    ],
    ids=repr,
)
def test_how_a_contacts_page_is_checked(change, fit):
    schema = stream_schema("contacts")
    page = [dict(CONTACT), {**CONTACT, **change}]
    check = PageCheck.compile(schema)
    assert check is not None
    assert check.fits(copy.deepcopy(page)) is fit
    by_record, by_page = both_ways(schema, page)
    assert by_page == by_record
    text = json.loads(by_page[0])
    assert text[0]["changedOn"] == "2025-01-01T00:05:20+00:00"
    assert text[0]["createdOn"] == "2025-01-01T00:05:20+00:00"


#: Timestamps as GetResponse writes them, and near misses: each field mostly in its range, now
#: and then any two digits (month 13, hour 24, second 60, offset +2500...), with other
#: separators, fractions and offset forms.
def two_digits(low: int, high: int) -> st.SearchStrategy[str]:
    return (
        st.integers(0, 19)
        .flatmap(lambda n: st.integers(0, 99) if n == 0 else st.integers(low, high))
        .map("{:02d}".format)
    )


OFFSETS = st.one_of(
    st.sampled_from(["Z", "z", "", "+0000"]),
    st.builds(
        "{}{}{}{}".format,
        st.sampled_from(["+", "-"]),
        two_digits(0, 23),
        st.sampled_from(["", "", "", ":"]),
        two_digits(0, 59),
    ),
)
TIMESTAMPS = st.builds(
    "{}-{}-{}{}{}:{}:{}{}{}".format,
    st.sampled_from(["2025", "2025", "2025", "1999", "0000", "9999", "2024"]),
    two_digits(1, 12),
    two_digits(1, 28),
    st.sampled_from(["T", "T", "T", "t", " "]),
    two_digits(0, 23),
    two_digits(0, 59),
    two_digits(0, 59),
    st.sampled_from(["", "", "", "", ".5", ".123456"]),
    OFFSETS,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(stamps=st.lists(st.tuples(TIMESTAMPS, TIMESTAMPS), min_size=1, max_size=3))
def test_checked_timestamps_come_out_as_the_converter_makes_them(stamps):
    # A page of valid timestamps gets only a colon put in, after msgspec's check instead of
    # `fromisoformat`'s: whatever msgspec lets through must come out exactly as the converter
    # writes it (and what it refuses goes to the normaliser record by record).
    page = [{**CONTACT, "changedOn": changed, "createdOn": created} for changed, created in stamps]
    by_record, by_page = both_ways(stream_schema("contacts"), page)
    assert by_page == by_record


def test_pages_that_fit_only_leniently_are_checked_leniently_first(monkeypatch):
    # Custom field columns of numbers come as text on every page: after one such page the next
    # is checked with one msgspec call, not two, and until a page needs no fix; the records and
    # reports stay those of the normaliser record by record.
    schema = stream_schema("contacts")
    text, number, odd = {"scoring": "36.5"}, {"scoring": 36.5}, {"scoring": "x"}
    pages = [[{**CONTACT, **change}] for change in (number, text, text, number, number, odd)]
    calls: list[str] = []
    convert = page_check.msgspec.convert

    def counting(rows: t.Any, page_type: t.Any) -> t.Any:
        (record,) = t.get_args(page_type)  # list[Record] or list[LenientRecord]
        calls.append("lenient" if record.__name__.startswith("Lenient") else "strict")
        return convert(rows, page_type)

    at_once = RecordNormaliser(
        schema, stream_name="things", logger=LOGGER, report=RecordingReport()
    )
    one_by_one = RecordNormaliser(
        schema, stream_name="things", logger=LOGGER, report=RecordingReport()
    )
    monkeypatch.setattr(page_check.msgspec, "convert", counting)
    tried = []
    for page in pages:
        calls.clear()
        by_page = at_once.normalise_page(copy.deepcopy(page))
        tried.append(tuple(calls))
        assert by_page == [one_by_one.normalise(row) for row in copy.deepcopy(page)]
    assert at_once.report.told == one_by_one.report.told
    assert tried == [
        ("strict",),
        ("strict", "lenient"),  # text: lenient from now on
        ("lenient",),
        ("lenient",),  # a number again: nothing to fix, strict first from now on
        ("strict",),
        ("strict", "lenient"),  # "x" fits leniently: the check reports and nulls it
    ]
