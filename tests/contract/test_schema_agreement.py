"""The committed stream schemas agree with GetResponse's official OpenAPI (after our conversions).

For every stream backed by an official item schema, every official property (at every depth) is in
the stream schema, or listed in DELIBERATELY_DROPPED with a reason, and its type is compatible:

| official                                     | stream schema                                  |
|----------------------------------------------|------------------------------------------------|
| string enum "true"/"false" (StringBooleanEnum)| boolean                                       |
| string listed in STRING_COUNTERS             | integer / number (and the spec example parses) |
| string, format date-time                     | string, format date-time (emitted RFC 3339)    |
| string, format date-time in LOCAL_WALL_CLOCK | string (local time, no offset)                 |
| string listed in COMMA_LISTS                 | array of strings                               |
| any other string / integer / number / bool   | the same type                                  |
| object / array                               | object / array, compared property by property  |
| untyped, or a oneOf/anyOf of mixed types     | anything                                       |

Every stream property is nullable, and every stream property not in the spec is one we document
(injected parent keys, EXTRA_PROPERTIES).
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from scripts import generate_schemas as gen
from tap_getresponse.schemas import load_schema, schema_names

#: (stream, official property path) -> why the stream schema leaves it out.
DELIBERATELY_DROPPED: dict[tuple[str, str], str] = {
    ("campaign_location_statistics", "continentalCode"): (
        "spec typo: its own example and the API say continentCode, which we keep"
    ),
}

#: Stream properties that the spec's item schema lacks on purpose: (stream, path) -> reason.
DOCUMENTED_EXTRAS: dict[tuple[str, str], str] = {
    **{(s, key): "injected by the tap" for s, src in gen.STREAMS.items() for key in src.inject},
    **{(s, k): "EXTRA_PROPERTIES" for s, props in gen.EXTRA_PROPERTIES.items() for k in props},
    ("campaign_location_statistics", "campaignId"): "injected by the tap",
    ("campaign_location_statistics", "location"): "the response's object key",
    ("campaign_location_statistics", "continentCode"): "what the spec calls continentalCode",
    ("campaign_summary_statistics", "campaignId"): "the response's object key",
}

SPEC_BACKED = sorted(gen.STREAMS)


def types(schema):
    declared = schema.get("type")
    return {declared} if isinstance(declared, str) else set(declared or ())


def official_kind(node):
    kind = node.get("type")
    if kind is None and "properties" in node:
        return "object"
    if kind is None:
        for key in ("oneOf", "anyOf"):
            kinds = {branch.get("type") for branch in node.get(key, [])}
            if len(kinds) == 1 and None not in kinds:
                return kinds.pop()
    return kind


def expected_kinds(stream, path, node):
    """The non-null types our schema may use for the official `node` (None: anything)."""
    kind = official_kind(node)
    if (stream, path) in gen.COMMA_LISTS:
        return {"array"}
    if kind == "string" and set(node.get("enum") or ()) == {"true", "false"}:
        return {"boolean"}
    if kind == "string" and path in gen.STRING_COUNTERS:
        return {"integer", "number"}
    return None if kind is None else {kind}


def disagreements(stream, official, ours, path=""):
    """Human-readable disagreements between an official node and our node at `path`."""
    where = f"{stream}.{path or '<record>'}"
    allowed = expected_kinds(stream, path, official)
    if allowed is None or ours == {}:
        return [] if allowed is None else [f"{where}: untyped here, typed in the spec"]
    ours_kinds = types(ours)
    problems = []
    if path and "null" not in ours_kinds:
        problems.append(f"{where}: not nullable")
    got = ours_kinds - {"null"}
    if not got or not got <= allowed:
        return [*problems, f"{where}: spec {sorted(allowed)} vs ours {sorted(got)}"]
    kind = got.pop()
    if official_kind(official) == "string":
        problems += string_disagreements(where, path, official, ours, kind)
    if kind == "object":
        problems += object_disagreements(stream, official, ours, path)
    if kind == "array" and official_kind(official) == "array":
        problems += disagreements(stream, official["items"], ours["items"], f"{path}[]")
    return problems


def string_disagreements(where, path, official, ours, kind):
    fmt = official.get("format")
    if kind in {"integer", "number"}:
        example = official.get("example")
        try:
            float(example) if example is not None else None
        except ValueError:
            return [f"{where}: counter whose spec example {example!r} is not a number"]
        return []
    if kind != "string":
        return []
    if fmt == "date-time" and path not in gen.LOCAL_WALL_CLOCK:
        return [] if ours.get("format") == "date-time" else [f"{where}: lost format date-time"]
    if "format" in ours and ours["format"] != fmt:
        return [f"{where}: format {ours['format']!r} but the spec says {fmt!r}"]
    return []


def object_disagreements(stream, official, ours, path):
    problems = []
    official_props = official.get("properties") or {}
    ours_props = ours.get("properties") or {}
    for name, child in official_props.items():
        child_path = f"{path}.{name}" if path else name
        if (stream, child_path) in DELIBERATELY_DROPPED:
            continue
        if name not in ours_props:
            problems.append(f"{stream}.{child_path}: in the spec, missing from the schema")
            continue
        problems += disagreements(stream, child, ours_props[name], child_path)
    for name in ours_props.keys() - official_props.keys():
        child_path = f"{path}.{name}" if path else name
        if (stream, child_path) not in DOCUMENTED_EXTRAS:
            problems.append(f"{stream}.{child_path}: not in the spec and not documented")
    return problems


@pytest.mark.parametrize("stream", SPEC_BACKED)
def test_stream_schema_covers_the_official_item_schema(official_spec, stream):
    official = gen.official_item_schema(official_spec, stream)
    assert disagreements(stream, official, load_schema(stream)) == []


def keyed_value_schema(official_spec, path):
    """The per-key value schema of a campaign statistics response (array of keyed objects)."""
    return gen.response_schema(official_spec, path)["items"]["additionalProperties"]


@pytest.mark.parametrize(
    ("stream", "path"),
    [
        ("campaign_location_statistics", "/campaigns/statistics/locations"),
        ("campaign_summary_statistics", "/campaigns/statistics/summary"),
    ],
)
def test_keyed_statistics_values_become_columns(official_spec, stream, path):
    official = keyed_value_schema(official_spec, path)
    ours = load_schema(stream)
    problems = object_disagreements(stream, official, ours, "")
    # these are string counters in the spec (`format: number`), integers in our rows
    problems = [p for p in problems if "spec ['string'] vs ours ['integer']" not in p]
    assert problems == []
    for name, prop in official["properties"].items():
        if prop.get("format") == "number":
            assert types(ours["properties"][name]) == {"integer", "null"}, name


@pytest.mark.parametrize(
    ("stream", "path", "column"),
    [
        ("campaign_origin_statistics", "/campaigns/statistics/origins", "origin"),
        ("campaign_subscription_statistics", "/campaigns/statistics/subscriptions", "origin"),
        ("campaign_removal_statistics", "/campaigns/statistics/removals", "reason"),
        ("campaign_balance_statistics", "/campaigns/statistics/balance", "name"),
    ],
)
def test_keyed_statistics_counts_are_integers(official_spec, stream, path, column):
    """Origins, reasons and dates are row values here, so only the leaf counts can be compared."""

    def leaves(node):
        for branch in node.get("anyOf", []):
            yield from leaves(branch)
        if isinstance(node.get("additionalProperties"), dict):
            yield from leaves(node["additionalProperties"])
        for child in (node.get("properties") or {}).values():
            if child.get("type") == "integer":
                yield child
            else:
                yield from leaves(child)

    counts = list(leaves(gen.response_schema(official_spec, path)["items"]))
    assert counts
    assert all(leaf["type"] == "integer" for leaf in counts)
    properties = load_schema(stream)["properties"]
    assert types(properties["count"]) == {"integer", "null"}
    assert types(properties[column]) == {"string", "null"}


def test_committed_schemas_are_what_the_generator_writes(official_spec):
    committed = {name: load_schema(name) for name in schema_names()}
    generated = {
        name.removesuffix(".json"): json.loads(text)
        for name, text in gen.generate(official_spec).items()
    }
    assert committed.keys() == generated.keys(), "run python -m scripts.generate_schemas"
    stale = [name for name in generated if committed[name] != generated[name]]
    assert stale == [], "stale schema files; run python -m scripts.generate_schemas"
    for name in schema_names():
        text = (gen.SCHEMAS_DIR / f"{name}.json").read_text("utf-8")
        assert text == gen.render(committed[name]), f"{name}.json is not in generator format"


def walk(schema, path=""):
    yield path, schema
    for name, child in (schema.get("properties") or {}).items():
        yield from walk(child, f"{path}.{name}" if path else name)
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]")


@pytest.mark.parametrize("stream", schema_names())
def test_schema_shape(stream):
    schema = load_schema(stream)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["properties"]
    for path, node in walk(schema):
        assert node.get("additionalProperties", True) is not False, path
        if path and node != {}:
            assert "null" in types(node), f"{path} is not nullable"
        assert node.get("format") in {None, "date-time", "date"}, path


def test_every_registered_stream_has_a_schema():
    from tap_getresponse import streams  # noqa: PLC0415 - imports the whole tap

    missing = [cls.name for cls in streams.STREAMS if cls.name not in schema_names()]
    assert missing == []


def test_every_listed_stream_is_generated_or_hand_written():
    assert set(schema_names()) == set(gen.STREAMS) | set(gen.HAND_WRITTEN)
    assert not set(gen.STREAMS) & set(gen.HAND_WRITTEN)
