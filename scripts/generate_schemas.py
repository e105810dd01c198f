"""Generate the tap's Singer stream schemas from GetResponse's official OpenAPI (dev tool, by hand).

The tap never reads the spec at run time: this script writes one JSON Schema per stream into
`tap_getresponse/schemas/<stream>.json` (pretty, sorted keys) and those files are committed.

Run it after refreshing the spec (see tests/contract/README-snippet.md)::

    .venv/bin/python -m scripts.generate_schemas           # rewrite the schema files
    .venv/bin/python -m scripts.generate_schemas --check   # exit 1 if any file is stale
    .venv/bin/python -m scripts.generate_schemas --spec other.json --out /tmp/schemas

What it does, per stream in `STREAMS`:

1. takes the stream's item schema from the official spec: the array item of the list operation's
   200 response, the detail response where the stream reads details, or the object itself for
   single-object endpoints; `$ref`s are resolved and `allOf` parts merged;
2. converts it to a Singer schema with the documented conversions (the spec's schemas, and its
   info.description "Timezone settings": response dates are UTC):
   - `StringBooleanEnum` (`"true"`/`"false"` strings) -> `["boolean", "null"]`;
   - string counters listed in `STRING_COUNTERS` -> `["integer", "null"]` / `["number", "null"]`;
   - `format: date-time` -> `{"type": ["string", "null"], "format": "date-time"}` (the tap emits
     RFC 3339), except the local wall-clock values in `LOCAL_WALL_CLOCK`;
   - comma-joined strings listed in `COMMA_LISTS` -> arrays of strings (newsletter `flags`);
   - every property nullable, `additionalProperties` never forbidden, and validation-only
     keywords (`enum`, `pattern`, lengths, `example`, `description`, non-date formats) dropped,
     because GetResponse adds enum values and the tap must not reject data it cannot change;
   - `oneOf`/`anyOf` of one scalar type collapse to that type; anything else becomes `{}`;
3. adds the keys the tap injects (`INJECTED`) and the few hand-kept extras (`EXTRA_PROPERTIES`);
4. writes the hand-written schemas of the flattened campaign statistics (`HAND_WRITTEN`): the
   spec describes those responses as objects keyed by campaign ID, date, origin or reason, which do
   not map 1:1 to rows.

A string property with a numeric `format` that no table mentions stops the run: somebody has to
decide whether it is a counter (`STRING_COUNTERS`) or an identifier (`KEEP_STRING`).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SPEC_PATH = REPO / "tests" / "contract" / "openapi" / "getresponse-v3-official.json"
SCHEMAS_DIR = REPO / "tap_getresponse" / "schemas"

JSON = dict[str, Any]

STRING = {"type": ["string", "null"]}
INTEGER = {"type": ["integer", "null"]}
NUMBER = {"type": ["number", "null"]}
DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
DATE = {"type": ["string", "null"], "format": "date"}


@dataclass(frozen=True)
class Source:
    """Where a stream's records come from in the official spec."""

    path: str
    #: "list": array item of the 200 response; "detail": the 200 object; "object": single object.
    kind: str = "list"
    #: Notes for readers of this table (spec quirks the generator works around).
    note: str = ""
    #: Properties the tap injects into each record (parent IDs, derived values).
    inject: dict[str, JSON] = field(default_factory=dict)
    #: The operation's method: a search reads with POST.
    method: str = "get"
    #: The array property of the response whose elements are the records (an order's lines).
    items: str = ""


#: stream name -> where its item schema lives in the official spec.
STREAMS: dict[str, Source] = {
    "campaigns": Source("/campaigns"),
    "contacts": Source("/contacts"),
    "contact_details": Source("/contacts/{contactId}", "detail"),
    "newsletters": Source("/newsletters"),
    "autoresponders": Source("/autoresponders"),
    "custom_fields": Source("/custom-fields"),
    "custom_events": Source("/custom-events"),
    "tags": Source("/tags"),
    "from_fields": Source("/from-fields"),
    "gdpr_fields": Source("/gdpr-fields"),
    "imports": Source("/imports"),
    "segments": Source("/search-contacts"),
    "forms": Source("/forms"),
    "webforms": Source("/webforms"),
    "landing_pages": Source("/lps"),
    "popups": Source("/popups"),
    "websites": Source("/websites"),
    "ab_tests": Source("/ab-tests/subject"),
    "splittests": Source("/splittests"),
    # Totals for a date range; the tap asks day by day and injects the day (`date`).
    "popup_performance": Source(
        "/statistics/popups/{popupId}/performance",
        "object",
        inject={"popupId": STRING, "date": DATE},
    ),
    "landing_page_performance": Source(
        "/statistics/lps/{lpsId}/performance", "object", inject={"lpsId": STRING, "date": DATE}
    ),
    "website_performance": Source(
        "/statistics/wbe/{websiteId}/performance",
        "object",
        inject={"websiteId": STRING, "date": DATE},
    ),
    "legacy_landing_pages": Source("/landing-pages"),
    "webinars": Source("/webinars"),
    "workflows": Source("/workflow"),
    "sms": Source(
        "/sms",
        "list",
        note="the spec types the /sms list response as one SmsListItem; the API returns an array",
    ),
    "rss_newsletters": Source("/rss-newsletters"),
    "click_tracks": Source("/click-tracks"),
    "shops": Source("/shops"),
    "products": Source("/shops/{shopId}/products", inject={"shopId": STRING}),
    "orders": Source("/shops/{shopId}/orders", inject={"shopId": STRING}),
    # Operation `getOrderById`: one record per `selectedVariants` element of the order details.
    "order_lines": Source(
        "/shops/{shopId}/orders/{orderId}",
        "detail",
        inject={"shopId": STRING, "orderId": STRING, "updatedOn": DATE_TIME},
        items="selectedVariants",
    ),
    "carts": Source("/shops/{shopId}/carts", inject={"shopId": STRING}),
    "categories": Source("/shops/{shopId}/categories", inject={"shopId": STRING}),
    "transactional_emails": Source("/transactional-emails", inject={"sentOn": DATE_TIME}),
    "transactional_email_statistics": Source(
        "/transactional-emails/statistics", inject={"intervalStart": DATE_TIME}
    ),
    "accounts": Source("/accounts", "object"),
    "newsletter_statistics": Source(
        "/newsletters/{newsletterId}/statistics",
        inject={"newsletterId": STRING, "intervalStart": DATE_TIME},
    ),
    "rss_newsletter_statistics": Source(
        "/rss-newsletters/{rssNewsletterId}/statistics",
        inject={"rssNewsletterId": STRING, "intervalStart": DATE_TIME},
    ),
    "autoresponder_statistics": Source(
        "/autoresponders/{autoresponderId}/statistics",
        inject={"autoresponderId": STRING, "intervalStart": DATE_TIME},
    ),
    "contact_activities": Source("/contacts/{contactId}/activities", inject={"contactId": STRING}),
    "newsletter_activities": Source(
        "/newsletters/{newsletterId}/activities", inject={"newsletterId": STRING}
    ),
    # The list-size response is a plain array of rows, so unlike the other campaign statistics it
    # maps 1:1 and is generated (createdOn stays a string: it is a period,
    # schema `CampaignListSizesStatisticsElement`).
    "campaign_list_size_statistics": Source(
        "/campaigns/statistics/list-size", inject={"campaignId": STRING}
    ),
    # Operation `getContactsFromSearchContactsConditions`, items `SearchedContactDetails`.
    "removed_contacts": Source("/search-contacts/contacts", method="post"),
    "unconfirmed_contacts": Source("/search-contacts/contacts", method="post"),
    "segment_contacts": Source(
        "/search-contacts/{searchContactId}/contacts", inject={"searchContactId": STRING}
    ),
    "suppressions": Source("/suppressions/{suppressionId}", "detail"),
}

#: String properties that carry numbers (e.g. schema `NewsletterListElement`'s
#: sendMetrics): path -> Singer type.
#: Paths are relative to the record; `[]` steps into array items.
STRING_COUNTERS: dict[str, JSON] = {
    "sendMetrics.sent": INTEGER,
    "sendMetrics.total": INTEGER,
    "sendMetrics.delivered": INTEGER,
    "sendMetrics.openRate": NUMBER,
    "sendMetrics.clickRate": NUMBER,
    "sendMetrics.humanOpenRate": NUMBER,
    "sendMetrics.humanClickRate": NUMBER,
    # Newsletter/autoresponder/RSS details only; kept so a stream switching to details is covered.
    "clickTracks[].amount": INTEGER,
    # Schema `SearchedContactDetails`: the contact's scoring, a string of format integer.
    "score": INTEGER,
    # Schema `Splittest` (and its `SplittestNewsletter`s): counts, percentages and seconds are
    # strings of format int32; the open and click rates are kept numbers in case of a fraction.
    "winningTarget": INTEGER,
    "samplingPercentage": INTEGER,
    "samplingTime": INTEGER,
    "winningDelivered": INTEGER,
    "winningScoreOpens": NUMBER,
    "winningScoreClicks": NUMBER,
    "newsletters[].samplingTargets": INTEGER,
    "newsletters[].samplingDelivered": INTEGER,
    "newsletters[].scoreOpens": NUMBER,
    "newsletters[].scoreClicks": NUMBER,
}

#: String properties with a numeric `format` that are identifiers, not quantities: path -> reason.
KEEP_STRING: dict[str, str] = {
    "dayOfCycle": "a day number kept a string, as the contacts stream has it (format integer)",
    "industryTag.industryTagId": "an ID (sent back as a string on writes), format says integer",
}

#: `format: date-time` values without an offset that are local wall-clock times in a sibling
#: `timeZone` object, not GMT; appending +00:00 would shift them. Kept as plain strings.
LOCAL_WALL_CLOCK: dict[str, str] = {
    "sendOn.date": "SMS send time in sendOn.timeZone (schema `SmsListItem`)",
    "sendSettings.sendOn.date": "newsletter send time in sendSettings.sendOn.timeZone",
}

#: (stream, path) of strings that list items send comma-joined and details send as arrays
#: (schemas `MessageFlagsString` and `MessageFlagsArray`).
COMMA_LISTS: dict[tuple[str, str], str] = {
    ("newsletters", "flags"): "list items: 'clicktrack,google_analytics'; details: an array",
    ("rss_newsletters", "flags"): "same MessageFlags pattern as newsletters",
}

#: Properties the spec lacks but the API is documented to return elsewhere: stream -> props.
EXTRA_PROPERTIES: dict[str, dict[str, JSON]] = {
    # GetResponse's PHP SDK (OrderFields) lists them; the official schema `Order` omits them.
    "orders": {"createdOn": DATE_TIME, "updatedOn": DATE_TIME},
    # getWebinarList filters and sorts on name; the schema `Webinar` omits it.
    "webinars": {"name": STRING},
    # getClickTrackList filters and sorts on createdOn and items carry it; ClickTrack omits it.
    "click_tracks": {"createdOn": DATE_TIME},
}


def _object(properties: dict[str, JSON]) -> JSON:
    return {"type": "object", "properties": properties}


#: The flattened campaign statistics, written by hand: the spec's keyed objects do not map 1:1.
HAND_WRITTEN: dict[str, JSON] = {
    # Array of objects keyed by location: <location> -> amount (string), continentCode, countryCode.
    "campaign_location_statistics": _object(
        {
            "campaignId": STRING,
            "location": STRING,
            "amount": INTEGER,
            "continentCode": STRING,
            "countryCode": STRING,
        }
    ),
    # Array of objects keyed by campaign ID: <campaignId> -> {<origin>: count, ..., summary}.
    "campaign_origin_statistics": _object(
        {"campaignId": STRING, "origin": STRING, "count": INTEGER}
    ),
    # Array of objects keyed by date: <YYYY-MM-DD> -> <campaignId> -> {<origin>: count}.
    "campaign_subscription_statistics": _object(
        {"campaignId": STRING, "date": DATE, "origin": STRING, "count": INTEGER}
    ),
    # Array of objects keyed by date: <YYYY-MM-DD> -> {<reason>: count}.
    "campaign_removal_statistics": _object(
        {"campaignId": STRING, "date": DATE, "reason": STRING, "count": INTEGER}
    ),
    # Keyed by date: <YYYY-MM-DD> -> {removals: {<reason>: n}, subscriptions: {<origin>: n}}.
    "campaign_balance_statistics": _object(
        {
            "campaignId": STRING,
            "date": DATE,
            "kind": STRING,
            "name": STRING,
            "count": INTEGER,
        }
    ),
    # One `Blocklist` object, {masks: [...]}: one row per mask, the mask its key.
    "account_blocklists": _object({"mask": STRING}),
    "campaign_blocklists": _object({"campaignId": STRING, "mask": STRING}),
    # Keyed by campaign ID: <campaignId> -> {totalSubscribers: "4", ...} (counts as strings).
    "campaign_summary_statistics": _object(
        {
            "campaignId": STRING,
            "totalSubscribers": INTEGER,
            "totalNewsletters": INTEGER,
            "totalTriggers": INTEGER,
            "totalLandingPages": INTEGER,
            "totalWebforms": INTEGER,
        }
    ),
}

_NUMERIC_FORMATS = frozenset({"number", "integer", "int32", "int64", "float", "double"})
_SCALARS = frozenset({"string", "integer", "number", "boolean"})


class GenerationError(Exception):
    """The spec holds something the tables above do not decide."""


def load_spec(path: Path = SPEC_PATH) -> JSON:
    """The official spec as a dict."""
    with path.open(encoding="utf-8") as handle:
        spec: JSON = json.load(handle)
    return spec


def resolve(spec: JSON, node: object, seen: tuple[str, ...] = ()) -> Any:  # noqa: ANN401 (JSON of any shape)
    """`node` with every `$ref` inlined and every `allOf` merged (recursion cut at a repeat)."""
    if isinstance(node, list):
        return [resolve(spec, item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            return {}
        _, _, section, name = ref.split("/")
        return resolve(spec, spec["components"][section][name], (*seen, ref))
    out = {key: resolve(spec, value, seen) for key, value in node.items()}
    if "allOf" in out:
        merged: JSON = {}
        for part in [*out.pop("allOf"), out]:
            for key, value in part.items():
                if key == "properties":
                    merged.setdefault("properties", {}).update(value)
                elif key == "required":
                    merged.setdefault("required", []).extend(value)
                else:
                    merged[key] = value
        out = merged
    return out


def response_schema(spec: JSON, path: str, status: str = "200", method: str = "get") -> JSON:
    """The resolved JSON body schema of `METHOD path` for `status`."""
    response = resolve(spec, spec["paths"][path][method]["responses"][status])
    schema: JSON = response["content"]["application/json"]["schema"]
    return schema


def official_item_schema(spec: JSON, stream: str) -> JSON:
    """The resolved official schema of one record of `stream` (before our conversions)."""
    source = STREAMS[stream]
    schema = response_schema(spec, source.path, method=source.method)
    if source.items:
        lines: JSON = schema["properties"][source.items]["items"]
        return lines
    if source.kind == "list" and schema.get("type") == "array":
        item: JSON = schema["items"]
        return item
    # "detail"/"object", or a list response the spec types as a single item (/sms).
    return schema


def _nullable(kind: str) -> list[str]:
    return [kind, "null"]


def _collapse(stream: str, path: str, branches: list[JSON]) -> JSON:
    """A `oneOf`/`anyOf` of one scalar type (e.g. ipv4|ipv6 strings) becomes that type."""
    kinds = {branch.get("type") for branch in branches}
    if len(kinds) == 1 and kinds <= _SCALARS:
        return convert(stream, path, {"type": kinds.pop()})
    return {}


def convert(stream: str, path: str, node: JSON) -> JSON:  # noqa: C901, PLR0911
    """The Singer schema for one resolved OpenAPI schema node at `path` of `stream`."""
    kind = node.get("type")
    if (stream, path) in COMMA_LISTS:
        return {"type": _nullable("array"), "items": STRING}
    for key in ("oneOf", "anyOf"):
        if key in node and kind is None:
            return _collapse(stream, path, node[key])
    if kind is None and "properties" in node:
        kind = "object"
    if kind == "object":
        properties = {
            name: convert(stream, f"{path}.{name}" if path else name, child)
            for name, child in (node.get("properties") or {}).items()
        }
        out: JSON = {"type": _nullable("object")}
        if properties:
            out["properties"] = properties
        return out
    if kind == "array":
        return {"type": _nullable("array"), "items": convert(stream, f"{path}[]", node["items"])}
    if kind == "boolean":
        return {"type": _nullable("boolean")}
    if kind in {"integer", "number"}:
        return {"type": _nullable(kind)}
    if kind == "string":
        return _convert_string(path, node)
    if kind is None:
        return {}  # untyped in the spec (e.g. deprecated autoresponder `recurrence`): anything
    msg = f"{stream}.{path}: unexpected type {kind!r}"
    raise GenerationError(msg)


def _convert_string(path: str, node: JSON) -> JSON:
    fmt = node.get("format")
    if set(node.get("enum") or ()) == {"true", "false"}:
        return {"type": _nullable("boolean")}  # StringBooleanEnum
    if path in STRING_COUNTERS:
        return copy.deepcopy(STRING_COUNTERS[path])
    if fmt == "date-time":
        return copy.deepcopy(STRING if path in LOCAL_WALL_CLOCK else DATE_TIME)
    if fmt == "date":
        return copy.deepcopy(DATE)
    if fmt in _NUMERIC_FORMATS and path not in KEEP_STRING:
        msg = (
            f"{path}: string with format {fmt!r}; add it to STRING_COUNTERS or KEEP_STRING in "
            "scripts/generate_schemas.py"
        )
        raise GenerationError(msg)
    return copy.deepcopy(STRING)


def stream_schema(spec: JSON, stream: str) -> JSON:
    """The Singer schema of `stream`: hand-written, or converted from the spec plus our keys."""
    if stream in HAND_WRITTEN:
        return copy.deepcopy(HAND_WRITTEN[stream])
    converted = convert(stream, "", official_item_schema(spec, stream))
    properties: dict[str, JSON] = converted.get("properties", {})
    for name, schema in {**EXTRA_PROPERTIES.get(stream, {}), **STREAMS[stream].inject}.items():
        properties[name] = copy.deepcopy(schema)
    return {"type": "object", "properties": properties}


def all_stream_names() -> list[str]:
    """Every stream with a schema file, sorted."""
    return sorted({*STREAMS, *HAND_WRITTEN})


def _dump(value: object, depth: int) -> str:
    """JSON with 2-space indents and sorted keys; lists of scalars stay on one line."""
    if isinstance(value, dict) and value:
        pad = "  " * (depth + 1)
        items = [f"{pad}{json.dumps(key)}: {_dump(value[key], depth + 1)}" for key in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        pad = "  " * (depth + 1)
        items = [f"{pad}{_dump(item, depth + 1)}" for item in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * depth + "]"
    return json.dumps(value)


def render(schema: JSON) -> str:
    """The committed text of a schema file: 2-space indent, sorted keys, trailing newline."""
    return _dump(schema, 0) + "\n"


def generate(spec: JSON) -> dict[str, str]:
    """File name -> text for every stream schema."""
    return {f"{name}.json": render(stream_schema(spec, name)) for name in all_stream_names()}


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the schema files; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=SPEC_PATH)
    parser.add_argument("--out", type=Path, default=SCHEMAS_DIR)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    files = generate(load_spec(args.spec))
    stale = [
        name
        for name, text in files.items()
        if not (args.out / name).exists() or (args.out / name).read_text("utf-8") != text
    ]
    orphans = sorted(path.name for path in args.out.glob("*.json") if path.name not in files)
    if args.check:
        for name in [*stale, *orphans]:
            sys.stderr.write(f"stale: {args.out / name}\n")
        return 1 if stale or orphans else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (args.out / name).write_text(files[name], encoding="utf-8")
        sys.stdout.write(f"wrote {args.out / name}\n")
    for name in orphans:
        sys.stderr.write(f"not generated (delete it if the stream is gone): {args.out / name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
