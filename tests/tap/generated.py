"""Responses generated from GetResponse's official OpenAPI, and a tap run that reads them.

Each stream's request path is an OpenAPI path (`GET /campaigns/statistics/balance` is operation
`getCampaignStatisticsBalance`); its 200 response schema, `$ref`s resolved, becomes a JSON Schema
that bodies are drawn from. The conversion keeps every documented type and
widens the content, because real accounts send what the spec allows, not what its examples show:

- strings are any text; a `format` (date-time, date, a number written as a string) draws from a
  mix of the forms GetResponse sends (`2014-09-20T00:00:00+0000`, GMT without an offset, a date
  alone), other well-formed forms, empty strings and arbitrary text;
- enums also take values the spec does not list (GetResponse adds values), `"true"`/`"false"`
  string booleans too;
- `nullable` adds null; `oneOf` becomes `anyOf`; lengths, patterns and bounds are dropped except
  the integer width (`int32`, `int64`), since a JSON reader meets 64-bit integers at most;
- objects keyed by dates (campaign statistics) get date-like keys, and sometimes not;
- objects with declared properties get no others (undeclared keys are a separate, tested case);
  free-form objects and untyped values take any JSON.

Bodies are drawn by `strategy` (below), not hypothesis-jsonschema: its `from_schema` fails on
every object with the current hypothesis (0.23.1 calls `many.more()`, gone in hypothesis
6.170.10), and the converted schemas use a handful of keywords that a page of strategies covers.

A `LoopbackAPI` (a real HTTP server on 127.0.0.1) answers the stream's path with the drawn body and
its parents' paths with fixed, valid parents; `run_stream` syncs that one stream in-process through
the tap's whole record path (HTTP client, pages, flattening, `post_process`, normaliser, writer)
and returns its Singer messages, its warnings, and each row as it entered `post_process` with the
record that came out.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import json
import logging
import re
import threading
import typing as t
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from hypothesis import strategies as st
from typing_extensions import override

from scripts.generate_schemas import load_spec, resolve
from tap_getresponse.client import GetResponseStream
from tap_getresponse.streams import STREAMS
from tap_getresponse.tap import TapGetResponse
from tests.tap.conftest import SyncResult

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from singer_sdk.helpers.types import Context

JSON = dict[str, t.Any]

#: Items in one generated list body: enough for two records to disagree, few enough to be fast.
MAX_ITEMS = 3
#: Keys of a free-form or keyed object.
MAX_KEYS = 3
INT32 = 2**31
INT64 = 2**63

#: Strings whose documented content the spec gives only in prose: (OpenAPI path, property path)
#: -> custom format. `createdOn` of `CampaignListSizesStatisticsElement` is a date or date-time by
#: its description; `timeInterval` of `MessageStatisticsListElement` has a pattern that can never
#: match (`/^...$/`) and an example `2014-09-20T00:00:00+0000/P2M18DT10H0M0S`.
CONTENT_HINTS: dict[tuple[str, str], str] = {
    ("/campaigns/statistics/list-size", "[].createdOn"): "gr-date-time",
    ("/newsletters/{newsletterId}/statistics", "[].timeInterval"): "gr-interval",
    ("/autoresponders/{autoresponderId}/statistics", "[].timeInterval"): "gr-interval",
    ("/rss-newsletters/{rssNewsletterId}/statistics", "[].timeInterval"): "gr-interval",
    ("/transactional-emails/statistics", "[].timeFrame"): "gr-interval",
}

#: Keyed objects whose keys are dates by their description ("Dates in YYYY-MM-DD format are used
#: as keys", `getCampaignStatisticsBalance`, `...Removals`, `...Subscriptions`).
DATE_KEYED = frozenset(
    {
        "/campaigns/statistics/balance",
        "/campaigns/statistics/removals",
        "/campaigns/statistics/subscriptions",
    }
)

#: The spec's list responses documented as one object where the API answers an array
#: (`getSMSList`: the generator's Source note in scripts/generate_schemas.py).
ARRAY_ANSWERS = frozenset({"/sms"})

#: OpenAPI keywords that only document, or constrain beyond the type.
_DROPPED = frozenset(
    {
        "description",
        "example",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "xml",
        "externalDocs",
        "discriminator",
        "title",
        "default",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    }
)
_STRING_FORMATS = {
    "date-time": "gr-date-time",
    "date": "gr-date",
    "number": "gr-number",
    "integer": "gr-number",
    "float": "gr-number",
    "double": "gr-number",
}


# ---- custom formats: what a documented string format may hold -------------------------------
def _moments() -> st.SearchStrategy[dt.datetime]:
    # Naive by hypothesis's design: each form below writes its own offset, or none.
    first, last = dt.datetime(1970, 1, 1), dt.datetime(2099, 12, 31)  # noqa: DTZ001
    return st.datetimes(min_value=first, max_value=last)


def _offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{rest:02d}"


def _datetime_text() -> st.SearchStrategy[str]:
    """GetResponse's forms of a timestamp, other ISO forms, empty and arbitrary text."""
    moments = _moments()
    offsets = st.integers(-14 * 60, 14 * 60)
    return st.one_of(
        moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%S+0000")),
        st.tuples(moments, offsets).map(
            lambda p: p[0].strftime("%Y-%m-%dT%H:%M:%S") + _offset(p[1])
        ),
        moments.map(lambda m: m.isoformat() + "Z"),
        moments.map(lambda m: m.strftime("%Y-%m-%d %H:%M:%S")),
        moments.map(lambda m: m.strftime("%Y-%m-%d")),
        st.sampled_from(["", " ", "0000-00-00 00:00:00", "2024-02-30T10:00:00+0000", "yesterday"]),
        st.text(max_size=25),
    )


def _date_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2099, 12, 31)).map(str),
        st.sampled_from(["", "0000-00-00", "2024-13-01", "2024-01-01T00:00:00+0000"]),
        st.text(max_size=12),
    )


def _number_text() -> st.SearchStrategy[str]:
    """Numbers as GetResponse writes them in strings (`"45"`, `"0.25"`), and not."""
    return st.one_of(
        st.integers(-(10**12), 10**12).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(str),
        st.decimals(places=2, allow_nan=False, allow_infinity=False).map(str),
        st.sampled_from(["", " 7 ", "1,5", "N/A", "1e3", "-0", "nan", "Infinity"]),
        st.text(max_size=8),
    )


def _interval_text() -> st.SearchStrategy[str]:
    """`timeInterval`: a start and an ISO 8601 duration, or anything else."""
    durations = st.sampled_from(["P1D", "PT1H", "P1M", "P2M18DT10H0M0S"])
    return st.one_of(
        st.tuples(_datetime_text(), durations).map(lambda p: f"{p[0]}/{p[1]}"),
        st.text(max_size=25),
    )


CUSTOM_FORMATS: dict[str, st.SearchStrategy[str]] = {
    "gr-date-time": _datetime_text(),
    "gr-date": _date_text(),
    "gr-number": _number_text(),
    "gr-interval": _interval_text(),
}


# ---- OpenAPI schema -> JSON Schema of what a response may hold -----------------------------
def to_json_schema(node: t.Any, where: str, at: str = "") -> JSON:  # noqa: C901, PLR0912
    """The JSON Schema of values the resolved OpenAPI `node` documents (see the module doc).

    `where` is the OpenAPI path (for CONTENT_HINTS), `at` the property path inside the body.
    """
    if not isinstance(node, dict) or not node:
        return {}
    out: JSON = {k: v for k, v in node.items() if k not in _DROPPED and k != "nullable"}
    kind = out.get("type")
    hint = CONTENT_HINTS.get((where, at))
    if hint is not None:
        out = {"type": "string", "format": hint}
    elif kind == "string":
        fmt = _STRING_FORMATS.get(out.pop("format", ""))
        if fmt:
            out["format"] = fmt
        if "enum" in out:
            out = {"anyOf": [{"enum": out.pop("enum")}, out]}
    elif kind in {"integer", "number"}:
        width = INT32 if out.pop("format", None) == "int32" else INT64
        out.pop("enum", None)
        if kind == "integer":
            out |= {"minimum": -width, "maximum": width - 1}
    else:
        out.pop("format", None)
    for key in ("anyOf", "oneOf"):
        if key in out:
            out["anyOf"] = [to_json_schema(branch, where, at) for branch in out.pop(key)]
    if "properties" in out:
        out["properties"] = {
            name: to_json_schema(child, where, f"{at}.{name}" if at else name)
            for name, child in out["properties"].items()
        }
        out.setdefault("additionalProperties", False)
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = to_json_schema(out["additionalProperties"], where, f"{at}.*")
        if where in DATE_KEYED and at == "[]":
            out["propertyNames"] = {"type": "string", "format": "gr-date"}
    if kind == "array":
        out["items"] = to_json_schema(out.get("items"), where, f"{at}[]")
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


# ---- JSON Schema -> hypothesis strategy (the keywords to_json_schema leaves) -----------------
def any_json() -> st.SearchStrategy[t.Any]:
    """Any JSON value, small: what an untyped or free-form schema allows."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-INT64, INT64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=MAX_ITEMS),
            st.dictionaries(st.text(max_size=10), inner, max_size=MAX_KEYS),
        ),
        max_leaves=6,
    )


#: Strategies of the scalar types that take no keyword.
_SCALARS: dict[str, st.SearchStrategy[t.Any]] = {
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "null": st.none(),
}


def strategy(schema: Mapping[str, t.Any]) -> st.SearchStrategy[t.Any]:  # noqa: PLR0911
    """Values of `schema`; lists hold at most MAX_ITEMS, free keys at most MAX_KEYS."""
    if "anyOf" in schema:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        return st.one_of([strategy({**rest, **branch}) for branch in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([strategy({**schema, "type": one}) for one in kind])
    if kind is None and ("properties" in schema or "additionalProperties" in schema):
        kind = "object"
    if kind == "object":
        return _object(schema)
    if kind == "array":
        return st.lists(strategy(schema.get("items") or {}), max_size=MAX_ITEMS)
    if kind == "string":
        return CUSTOM_FORMATS.get(schema.get("format", ""), st.text(max_size=30))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    return _SCALARS.get(kind or "", any_json())


def _object(schema: Mapping[str, t.Any]) -> st.SearchStrategy[JSON]:
    properties: Mapping[str, JSON] = schema.get("properties") or {}
    required = set(schema.get("required") or ()) & set(properties)
    fixed = st.fixed_dictionaries(
        {name: strategy(properties[name]) for name in sorted(required)},
        optional={
            name: strategy(child) for name, child in properties.items() if name not in required
        },
    )
    extra = schema.get("additionalProperties", True)
    if extra is False:
        return fixed
    keys = CUSTOM_FORMATS["gr-date"] if "propertyNames" in schema else st.text(max_size=12)
    values = any_json() if extra is True else strategy(extra)
    free = st.dictionaries(keys, values, max_size=MAX_KEYS)
    return st.tuples(free, fixed).map(lambda pair: {**pair[0], **pair[1]})


@cache
def _spec() -> JSON:
    return load_spec()


def operation(path: str) -> JSON:
    """The OpenAPI `GET` operation of `path` (`POST` for a search: `/search-contacts/contacts`)."""
    item = _spec()["paths"][path]
    op: JSON = item["get"] if "get" in item else item["post"]
    return op


def operation_id(path: str) -> str:
    """`getCampaignStatisticsBalance` for `/campaigns/statistics/balance`."""
    return str(operation(path)["operationId"])


def body_schema(stream: type[GetResponseStream]) -> JSON:
    """The JSON Schema of the 200 bodies of `stream`'s request (lists capped at MAX_ITEMS)."""
    response = resolve(_spec(), operation(stream.path)["responses"]["200"])
    official = response["content"]["application/json"]["schema"]
    if stream.path in ARRAY_ANSWERS and official.get("type") != "array":
        official = {"type": "array", "items": official}
    schema = to_json_schema(official, stream.path)
    item = schema.get("items", schema)
    # Ids are the one thing every item carries (the spec rarely says `required`); missing or
    # unparsable replication keys stay possible, as the issue measured them.
    keys = t.cast("tuple[str, ...]", stream.primary_keys)  # a class attribute on every stream
    ids = [key for key in keys if key in (item.get("properties") or {})]
    item["required"] = sorted({*item.get("required", ()), *ids})
    return schema


@cache
def body_strategy(name: str) -> st.SearchStrategy[t.Any]:
    """Bodies of stream `name`'s response, drawn from its official schema."""
    return strategy(body_schema(STREAM_CLASSES[name]))


STREAM_CLASSES: dict[str, type[GetResponseStream]] = {cls.name: cls for cls in STREAMS}


# ---- a loopback API that answers the drawn body ----------------------------------------------
RECENT = f"{dt.datetime.now(dt.UTC) - dt.timedelta(days=2):%Y-%m-%dT%H:%M:%S}"
#: Valid parents for fan-out streams (listings ask with `fields=`; extra keys are harmless).
PARENTS: dict[str, list[JSON]] = {
    "/campaigns": [{"campaignId": "cmp1", "name": "list_one"}],
    "/newsletters": [{"newsletterId": "nws1", "type": "broadcast"}],
    "/autoresponders": [{"autoresponderId": "aut1"}],
    "/contacts": [
        {
            "contactId": "ctc1",
            "email": "someone@example.com",
            "createdOn": "2024-01-01T00:00:00+0000",
            "changedOn": "2024-01-02T00:00:00+0000",
        }
    ],
    "/shops": [{"shopId": "shp1", "createdOn": "2024-01-01T00:00:00+0000"}],
    "/shops/shp1/orders": [{"orderId": "ord1", "updatedOn": "2024-01-02T00:00:00+0000"}],
    "/rss-newsletters": [{"rssNewsletterId": "rss1"}],
    # Performance streams ask about each day since the item's creation: two days keep it short.
    "/popups": [{"popupId": "pop1", "createdAt": RECENT}],
    "/lps": [{"lpsId": "lps1", "createdAt": RECENT}],
    "/websites": [{"websiteId": "wbe1", "createdAt": RECENT}],
    "/search-contacts": [{"searchContactId": "seg1"}],
    "/suppressions": [{"suppressionId": "sup1"}],
}
PARENT_IDS = {
    "contactId": "ctc1",
    "newsletterId": "nws1",
    "autoresponderId": "aut1",
    "shopId": "shp1",
    "orderId": "ord1",
    "rssNewsletterId": "rss1",
    "popupId": "pop1",
    "lpsId": "lps1",
    "websiteId": "wbe1",
    "searchContactId": "seg1",
    "suppressionId": "sup1",
    "campaignId": "cmp1",
}


class LoopbackAPI:
    """A real HTTP server on 127.0.0.1 answering GETs from `routes` (path -> JSON body)."""

    def __init__(self) -> None:
        """Bind a free port; serve from a daemon thread until `close`."""
        self.routes: dict[str, t.Any] = {}
        self.requests: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
                del format, args

            def do_GET(self) -> None:
                path = urlsplit(self.path).path.removeprefix("/v3")
                api.requests.append(path)
                query = urlsplit(self.path).query
                body = api.routes.get(path)
                if body is None:
                    self._answer(404, {"httpStatus": 404, "code": 1013, "message": "no route"})
                    return
                first_page = "page=" not in query or re.search(r"(^|&)page=1(&|$)", query)
                if isinstance(body, list) and not first_page:
                    body = []
                self._answer(200, body)

            def do_POST(self) -> None:  # a search reads with POST: answered as a GET
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def _answer(self, status: int, body: t.Any) -> None:
                payload = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if isinstance(body, list):
                    count = len(body)
                    self.send_header("TotalCount", str(count))
                    self.send_header("TotalPages", "1" if count else "0")
                    self.send_header("CurrentPage", "1")
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The API base URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v3"

    def serve(self, stream: type[GetResponseStream], body: t.Any) -> None:
        """Answer `stream`'s path with `body`, its parents' with PARENTS, /accounts always."""
        self.routes = {"/accounts": {"accountId": "acc1"}, **copy.deepcopy(PARENTS)}
        self.routes[stream.path.format(**PARENT_IDS)] = body
        self.requests = []

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


# ---- one in-process run, with what went in and out of post_process ---------------------------
@dataclass
class StreamRun:
    """One sync of one stream: messages, warnings, and post_process's (row in, record out)."""

    name: str
    result: SyncResult
    error: BaseException | None
    warnings: list[str]
    rows: list[tuple[JSON, JSON | None]] = field(default_factory=list)

    @property
    def records(self) -> list[JSON]:
        """The stream's RECORD payloads."""
        return self.result.records[self.name]

    @property
    def schema_message(self) -> JSON:
        """The stream's SCHEMA message."""
        found = [
            m for m in self.result.messages if m["type"] == "SCHEMA" and m["stream"] == self.name
        ]
        return found[0]

    @property
    def schema(self) -> JSON:
        """The stream's SCHEMA."""
        schema: JSON = self.schema_message["schema"]
        return schema

    @property
    def replication_key(self) -> str | None:
        """The stream's replication key, as its SCHEMA message says (`bookmark_properties`)."""
        keys = self.schema_message.get("bookmark_properties") or [None]
        return t.cast("str | None", keys[0])


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def _spy_post_process(name: str, rows: list[tuple[JSON, JSON | None]]) -> Iterator[None]:
    original = GetResponseStream.post_process

    def spy(self: GetResponseStream, row: JSON, context: Context | None = None) -> JSON | None:
        before = copy.deepcopy(row)
        record = original(self, row, context)
        if self.name == name:
            rows.append((before, None if record is None else copy.deepcopy(record)))
        return record

    GetResponseStream.post_process = spy  # type: ignore[method-assign]
    try:
        yield
    finally:
        GetResponseStream.post_process = original  # type: ignore[method-assign]


def lineage(name: str) -> frozenset[str]:
    """`name` and the parent streams a sync of it runs (contacts for contact_details...)."""
    names = {name}
    parent = STREAM_CLASSES[name].parent_stream_type
    while parent is not None:
        names |= {other for other, cls in STREAM_CLASSES.items() if cls is parent}
        parent = parent.parent_stream_type
    return frozenset(names)


class OneStreamTap(TapGetResponse):
    """The tap with only the streams one stream's sync needs (the SDK's catalog work per stream
    is most of a small run's time)."""

    names: t.ClassVar[frozenset[str]] = frozenset()

    @override
    def discover_streams(self) -> list[GetResponseStream]:
        return [cls(tap=self, run=self.run) for cls in STREAMS if cls.name in self.names]


def sync_one(url: str, name: str, *, state: JSON | None = None, **settings: t.Any) -> StreamRun:
    """Sync stream `name` (and the parents it needs) from the API at `url`, in-process."""
    config = {"api_url": url, "api_key": "generated-key", **settings}
    tap_class = type("OneStreamTap", (OneStreamTap,), {"names": lineage(name)})
    handler = _Warnings()
    logger = logging.getLogger(TapGetResponse.name)
    logger.addHandler(handler)
    rows: list[tuple[JSON, JSON | None]] = []
    out = io.StringIO()
    error: BaseException | None = None
    try:
        with _spy_post_process(name, rows), contextlib.redirect_stdout(out):
            tap = tap_class(config=config, state=copy.deepcopy(state or {}), parse_env_config=False)
            for stream in tap.streams.values():
                stream.selected = stream.name == name
            tap.sync_checked()
    except (Exception, SystemExit) as caught:  # noqa: BLE001 - the property under test
        error = caught
    finally:
        logger.removeHandler(handler)
    # Lines end at "\n" only: str.splitlines would also cut at U+2028 inside a value.
    result = SyncResult([json.loads(line) for line in out.getvalue().split("\n") if line])
    return StreamRun(name, result, error, handler.lines, rows)


def run_stream(api: LoopbackAPI, name: str, body: t.Any, **settings: t.Any) -> StreamRun:
    """Sync stream `name` against `api` answering `body` on its path."""
    api.serve(STREAM_CLASSES[name], body)
    return sync_one(api.url, name, **settings)


# ---- what a run must show -------------------------------------------------------------------
def nulled(schema: Mapping[str, t.Any], before: t.Any, after: t.Any, at: str = "") -> Iterator[str]:
    """Field paths where `before` held a value and `after` holds null: values that did not fit.

    `before` is a row as it entered `post_process`, `after` the record that came out, `schema`
    the stream's; paths are written as the tap reports them (`sendMetrics.clickRate`, `tags[]`).
    """
    if before is None:
        return
    if after is None:
        yield at
        return
    kinds = schema.get("type")
    kinds = {kinds} if isinstance(kinds, str) else set(kinds or ())
    if "object" in kinds and isinstance(before, dict) and isinstance(after, dict):
        for key, child in (schema.get("properties") or {}).items():
            if key in before:
                path = f"{at}.{key}" if at else key
                yield from nulled(child, before[key], after.get(key), path)
    elif "array" in kinds and isinstance(before, list) and isinstance(after, list):
        # Items are converted one for one; a list of another length is not compared.
        items = schema.get("items") or {}
        pairs = zip(before, after, strict=True) if len(before) == len(after) else ()
        for item_before, item_after in pairs:
            yield from nulled(items, item_before, item_after, f"{at}[]")


#: The end-of-run lines of the tap's value report (tap_getresponse/value_report.py).
_SUMMARY = re.compile(
    r"Values summary: Stream '(?P<stream>[^']+)', (?:field '(?P<field>[^']*)'|item): "
    r"(?P<count>\d+) (?P<unit>value|record)\(s\)"
)


@dataclass
class Reported:
    """What a run's value report said at its end: counts per field."""

    #: Field -> values that did not fit ("" for whole items skipped).
    values: t.Counter[str] = field(default_factory=Counter)
    #: Replication key -> records emitted without a usable one.
    unkeyed: t.Counter[str] = field(default_factory=Counter)


def reported(run: StreamRun) -> Reported:
    """The value report's summary lines for `run`'s stream."""
    out = Reported()
    for line in run.warnings:
        match = _SUMMARY.search(line)
        if match is None or match["stream"] != run.name:
            continue
        counter = out.values if match["unit"] == "value" else out.unkeyed
        counter[match["field"] or ""] += int(match["count"])
    return out
