"""The account's lists, custom fields and tags, read once per run and resolved by name or id."""

from __future__ import annotations

import logging
import re
import threading
import typing as t

from tap_getresponse.api import ConfigError, GetResponseAPIError
from target_getresponse.mapping import CustomField, RejectError
from target_getresponse.rejects import is_record_problem, refused

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from tap_getresponse.api import GetResponseClient

LOGGER = logging.getLogger("target_getresponse.resolver")
PAGE_SIZE = 1000
#: §3.4: custom field names are lowercase letters, digits and underscores.
_FIELD_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
#: The official OpenAPI's `BaseTag.name` pattern (operation `createTag`).
TAG_NAME = re.compile(r"^[_a-zA-Z0-9]{2,64}$")
HTTP_CONFLICT = 409


def read_page(
    client: GetResponseClient,
    path: str,
    params: Mapping[str, t.Any] | None,
    page: int,
) -> tuple[list[dict[str, t.Any]], int]:
    """One page of a collection and the `TotalPages` header (§2.1: `perPage` is at most 1000)."""
    response = client.request(
        "GET", path, params={**(params or {}), "page": page, "perPage": PAGE_SIZE}
    )
    items: list[dict[str, t.Any]] = response.json()
    total_pages = response.headers.get("TotalPages")
    if total_pages is None or not str(total_pages).isdigit():
        # No header: assume one more page while pages come back full.
        return items, page + 1 if len(items) >= PAGE_SIZE else page
    return items, int(total_pages)


def iter_collection(
    client: GetResponseClient,
    path: str,
    params: Mapping[str, t.Any] | None = None,
) -> Iterator[dict[str, t.Any]]:
    """Every item of a paginated collection (§2.1)."""
    page = 1
    while True:
        items, total_pages = read_page(client, path, params, page)
        yield from items
        if not items or page >= total_pages:
            return
        page += 1


class Resolver:
    """Name and id lookups for lists, custom fields and tags, creating what the config allows."""

    def __init__(
        self,
        client: GetResponseClient,
        *,
        create_missing_tags: bool,
        create_missing_custom_fields: bool,
        dry_run: bool,
        default_campaign: str | None = None,
    ) -> None:
        """Read the three collections now: one pass per run (§4: names resolve to ids).

        ConfigError when `default_campaign` (the `campaign_id` setting) is no list of the
        account: no record can fix that, so the run ends before loading anything.
        """
        self.client = client
        self.create_missing_tags = create_missing_tags and not dry_run
        self.dry_run_creates = create_missing_tags and dry_run
        self.create_missing_custom_fields = create_missing_custom_fields and not dry_run
        self.dry_run_creates_fields = create_missing_custom_fields and dry_run
        #: What a dry run would have created, reported once each.
        self.would_create: set[str] = set()
        #: Tags and custom fields GetResponse refused to create, with its answer: records
        #: naming them again are rejected without another call.
        self.refused: dict[tuple[str, str], RejectError] = {}
        self._lock = threading.Lock()
        campaigns = list(iter_collection(client, "/campaigns"))
        self.campaign_ids = {str(c["campaignId"]) for c in campaigns}
        self.campaigns_by_name = {str(c["name"]): str(c["campaignId"]) for c in campaigns}
        fields = [CustomField.from_api(f) for f in iter_collection(client, "/custom-fields")]
        self.fields_by_name = {f.name: f for f in fields}
        self.fields_by_id = {f.field_id: f for f in fields}
        tags = list(iter_collection(client, "/tags"))
        self.tags_by_name = {str(tag["name"]): str(tag["tagId"]) for tag in tags}
        self.tag_names = {tag_id: name for name, tag_id in self.tags_by_name.items()}
        if default_campaign and not (
            default_campaign in self.campaign_ids or default_campaign in self.campaigns_by_name
        ):
            msg = (
                f"`campaign_id`: list {default_campaign!r} does not exist in this account "
                "(give the id or the name of one of its lists)"
            )
            raise ConfigError(msg)

    def campaign_id(self, ref: str, *, is_name: bool = False) -> str:
        """The id of a list given by id or name; RejectError if the account has no such list."""
        if not is_name and ref in self.campaign_ids:
            return ref
        if ref in self.campaigns_by_name:
            return self.campaigns_by_name[ref]
        msg = f"list (campaign) {ref!r} does not exist in this account"
        raise RejectError(msg)

    def custom_field(
        self,
        ref: str,
        schema: Mapping[str, t.Any] | None = None,
    ) -> CustomField | None:
        """A custom field by name or id; created (when allowed) typed from its JSON `schema`."""
        found = self.fields_by_id.get(ref) or self.fields_by_name.get(ref)
        if found or not _valid_field_name(ref):
            return found
        if self.dry_run_creates_fields:
            self._would_create(f"custom field {ref!r} ({infer_field_type(schema)})")
        if not self.create_missing_custom_fields:
            return None
        with self._lock:
            if ref in self.fields_by_name:
                return self.fields_by_name[ref]
            kind = infer_field_type(schema)
            body = {"name": ref, "type": kind, "format": "text", "hidden": "false", "values": []}
            created = self._create("custom field", "/custom-fields", body)
            field = CustomField.from_api({"type": kind, "format": "text", **created})
            self.fields_by_name[field.name] = self.fields_by_id[field.field_id] = field
            LOGGER.info("Created custom field %r (%s)", field.name, field.value_type)
            return field

    def tag_name(self, tag_id: str) -> str | None:
        """The name of a tag id (imports name tags in `tag:<name>` columns, §4.5)."""
        return self.tag_names.get(tag_id)

    def tag_id(self, ref: str) -> str:
        """A tag id from a tag id or name; created when allowed; RejectError otherwise."""
        if ref in self.tag_names:
            return ref
        if ref in self.tags_by_name:
            return self.tags_by_name[ref]
        if not TAG_NAME.match(ref):
            msg = (
                f"tag {ref!r} is neither a tag of this account nor a valid tag name (2-64 "
                "letters, digits or underscores, as GetResponse's createTag requires)"
            )
            raise RejectError(msg)
        if not self.create_missing_tags:
            if self.dry_run_creates:
                self._would_create(f"tag {ref!r}")
                return ref  # a dry run reports what it would create, it does not create it
            msg = f"tag {ref!r} does not exist (create_missing_tags is off)"
            raise RejectError(msg)
        with self._lock:
            if ref not in self.tags_by_name:
                created = self._create("tag", "/tags", {"name": ref})
                self.tags_by_name[ref] = str(created["tagId"])
                self.tag_names[str(created["tagId"])] = ref
                LOGGER.info("Created tag %r", ref)
            return self.tags_by_name[ref]

    def _create(self, what: str, path: str, body: dict[str, t.Any]) -> dict[str, t.Any]:
        """Create a tag or custom field; RejectError (kept for the run) when GetResponse refuses.

        A 409 means it was made since the run read the list: it is read back by name. What no
        record can fix (credentials, permissions, server errors) is raised as it is.
        """
        name = str(body["name"])
        if (what, name) in self.refused:
            raise self.refused[what, name]
        try:
            created: dict[str, t.Any] = self.client.request("POST", path, json=body).json()
        except GetResponseAPIError as error:
            if not is_record_problem(error):
                raise
            if error.http_status == HTTP_CONFLICT:
                # `query[name]` matches by substring (the official docs' search filters).
                matches = iter_collection(self.client, path, {"query[name]": name})
                found = next((item for item in matches if item.get("name") == name), None)
                if found is not None:
                    return found
            reject = refused(error, f"{what} {name!r} could not be created")
            self.refused[what, name] = reject
            LOGGER.warning("GetResponse refused to create %s %r: %s", what, name, error)
            raise reject from None
        return created

    def _would_create(self, what: str) -> None:
        with self._lock:
            if what not in self.would_create:
                self.would_create.add(what)
                LOGGER.info("Dry run: would create %s", what)


def _valid_field_name(name: str) -> bool:
    return 1 <= len(name) <= 128 and set(name) <= _FIELD_NAME_CHARS  # noqa: PLR2004


def infer_field_type(schema: Mapping[str, t.Any] | None) -> str:
    """A custom field type (§3.4 `type`) for a new field, from the record's JSON schema."""
    schema = schema or {}
    types = schema.get("type") or []
    types = {types} if isinstance(types, str) else set(types)
    if schema.get("format") == "date-time":
        return "datetime"
    if schema.get("format") == "date":
        return "date"
    if types & {"integer", "number"} and "boolean" not in types:
        return "number"
    return "string"
