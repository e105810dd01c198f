"""The target's own settings: their JSON schema, and `TargetSettings`, read once from the config.

The schema's defaults are the only ones: `TargetSettings.from_config` fills an unset setting
(missing, null or an empty string) from them, so code reads typed values and states no default.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from singer_sdk import typing as th

if t.TYPE_CHECKING:
    from collections.abc import Mapping

TARGET_SETTINGS = th.PropertiesList(
    th.Property(
        "campaign_id",
        th.StringType,
        description="Default list (campaign id) for records that name none.",
    ),
    th.Property(
        "campaign_property",
        th.StringType,
        default="campaign_id",
        description="Record property naming a record's own list by id (`campaign_name` for a "
        "list name also works).",
    ),
    th.Property(
        "custom_field_mapping",
        th.ObjectType(additional_properties=th.StringType),
        description="Record property -> custom field name or id; overrides matching by name.",
    ),
    th.Property(
        "create_missing_tags",
        th.BooleanType,
        default=True,
        description="Create tags named in records that the account does not have yet.",
    ),
    th.Property(
        "create_missing_custom_fields",
        th.BooleanType,
        default=False,
        description="Create a custom field for every other record property (type from its "
        "JSON schema) instead of ignoring properties that match no custom field.",
    ),
    th.Property(
        "load_method",
        th.StringType(allowed_values=["add", "upsert"]),
        default="add",
        description="`add`: batch-add new contacts, leave existing ones as they are. `upsert`: "
        "also update existing contacts' name, custom field values and tags.",
    ),
    th.Property(
        "tags_mode",
        th.StringType(allowed_values=["add", "replace"]),
        default="add",
        description="`add`: records' tags are added to a contact's. `replace`: every existing "
        "contact the input names ends with exactly its record's tags (one `updateContact` call "
        "per such contact); a record without a `tags` property leaves tags alone.",
    ),
    th.Property(
        "process_deletes",
        th.BooleanType,
        default=False,
        description="Remove the contact of a record whose `_sdc_deleted_at` is set from its "
        "list. Off: such records are counted as `deletes_skipped` and nothing is removed.",
    ),
    th.Property(
        "custom_events_stream",
        th.StringType,
        default="custom_events",
        description="Stream whose records trigger custom events (`name`, `attributes`, and "
        "`contactId` or `email` and the list) instead of loading contacts.",
    ),
    th.Property(
        "create_missing_custom_events",
        th.BooleanType,
        default=False,
        description="Create custom events named in records that the account does not have yet "
        "(attribute types from the record); off, such records are rejected.",
    ),
    th.Property(
        "rejects_file",
        th.StringType,
        default="output/getresponse-rejects.jsonl",
        description="JSON-lines file listing every refused record and why.",
    ),
    th.Property(
        "rejects_include_records",
        th.BooleanType,
        default=False,
        description="Write whole records to the rejects file (emails are masked otherwise).",
    ),
    th.Property(
        "fail_on_reject",
        th.BooleanType,
        default=False,
        description="Exit non-zero at the end when any record was rejected.",
    ),
    th.Property(
        "verify",
        th.BooleanType,
        default=False,
        description="After loading, check that every added contact became visible; report "
        "the ones GetResponse refused silently after accepting them (202).",
    ),
    th.Property(
        "verify_timeout_seconds",
        th.IntegerType(minimum=0),
        default=300,
        description="How long `verify` waits for added contacts to become visible.",
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description="Validate and resolve every record and report, without writing anything.",
    ),
)

#: Each setting's default, from the schema above (None for a setting without one).
DEFAULTS: Mapping[str, t.Any] = MappingProxyType(
    {
        name: schema.get("default")
        for name, schema in TARGET_SETTINGS.to_dict()["properties"].items()
    }
)


@dataclass(frozen=True, slots=True)
class TargetSettings:
    """The target's settings, typed, with the schema's defaults filled in."""

    campaign_id: str | None
    campaign_property: str
    custom_field_mapping: Mapping[str, str] = field(repr=False)
    create_missing_tags: bool
    create_missing_custom_fields: bool
    load_method: t.Literal["add", "upsert"]
    tags_mode: t.Literal["add", "replace"]
    process_deletes: bool
    custom_events_stream: str
    create_missing_custom_events: bool
    rejects_file: str
    rejects_include_records: bool
    fail_on_reject: bool
    verify: bool
    verify_timeout_seconds: int
    dry_run: bool

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> TargetSettings:
        """Read the target's settings from the plugin config (already validated by the SDK)."""
        values = {f.name: _value(config, f.name) for f in fields(cls)}
        values["campaign_id"] = str(values["campaign_id"]) if values["campaign_id"] else None
        values["custom_field_mapping"] = MappingProxyType(
            {str(k): str(v) for k, v in (values["custom_field_mapping"] or {}).items()}
        )
        return cls(**values)

    @property
    def verifying(self) -> bool:
        """Whether added contacts are checked at the end (a dry run adds none)."""
        return self.verify and not self.dry_run


def _value(config: Mapping[str, t.Any], name: str) -> t.Any:  # noqa: ANN401 - any setting
    """The configured value, or the schema's default when the setting is unset."""
    value = config.get(name)
    return DEFAULTS[name] if value is None or value == "" else value
