"""The account's lists, custom fields and tags, read once per run; records' names resolved to ids.

Lists, custom fields and tags are read whole on the first record (OpenAPI `getCampaignList`,
`getCustomFieldList`, `getTagsList`); tags and custom fields a record names that the account lacks
are created when the settings allow (`createTag`, `createCustomField`).
"""

from __future__ import annotations

import logging
import re
import threading
import typing as t
from http import HTTPStatus

from tap_getresponse.api import ConfigError, GetResponseAPIError
from tap_getresponse.api.collections import iter_items
from tap_getresponse.api.limits import MAX_PAGE_SIZE
from target_getresponse.custom_fields import (
    CustomField,
    field_values,
    infer_field_type,
    valid_field_name,
)
from target_getresponse.mapping import RejectError
from target_getresponse.rejects import is_record_problem, refused

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from tap_getresponse.api import GetResponseClient
    from target_getresponse.mapping import Prepared

LOGGER = logging.getLogger("target_getresponse.resolver")
#: Schema `BaseTag`, `name` (operation `createTag`).
TAG_NAME = re.compile(r"^[_a-zA-Z0-9]{2,64}$")


def _collection(
    client: GetResponseClient, path: str, params: Mapping[str, t.Any] | None = None
) -> Iterator[dict[str, t.Any]]:
    """Every item of a paginated collection, in pages of the most the API allows."""
    return iter_items(client, path, params, page_size=MAX_PAGE_SIZE)


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
        """Read the three collections now: one pass per run.

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
        campaigns = list(_collection(client, "/campaigns"))
        self.campaign_ids = {str(c["campaignId"]) for c in campaigns}
        self.campaigns_by_name = {str(c["name"]): str(c["campaignId"]) for c in campaigns}
        fields = [CustomField.from_api(f) for f in _collection(client, "/custom-fields")]
        self.fields_by_name = {f.name: f for f in fields}
        self.fields_by_id = {f.field_id: f for f in fields}
        tags = list(_collection(client, "/tags"))
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

    def resolve(self, prepared: Prepared, properties: Mapping[str, t.Any]) -> None:
        """Give the contact's list, tags and custom fields by id; RejectError says what is wrong.

        `properties` are the stream's JSON schema properties: a custom field created for a record
        property takes its type from there.
        """
        contact = prepared.contact
        if contact.campaign is None:
            msg = "record names no list and no default `campaign_id` is configured"
            raise RejectError(msg)
        contact.campaign = self.campaign_id(contact.campaign, is_name=contact.campaign_is_name)
        for ref in contact.tags:
            prepared.tag_ids.append(self.tag_id(ref))
            prepared.tag_names.append(self.tag_name(prepared.tag_ids[-1]) or ref)
        self._resolve_custom_values(prepared, properties)
        for field_id, values in contact.custom_ids.items():
            custom_field = self.fields_by_id.get(field_id) or self.fields_by_name.get(field_id)
            if custom_field is None:
                msg = f"custom field {field_id!r} does not exist in this account"
                raise RejectError(msg)
            prepared.custom[custom_field.field_id] = field_values(custom_field, values)
            prepared.custom_names[custom_field.name] = prepared.custom[custom_field.field_id]

    def _resolve_custom_values(self, prepared: Prepared, properties: Mapping[str, t.Any]) -> None:
        """Values of record properties that are (or become) custom fields of the account."""
        for ref, value in prepared.contact.custom.items():
            try:
                custom_field = self.custom_field(ref, properties.get(ref))
            except RejectError:
                if value is None or value in ("", []):
                    continue  # no value for the field GetResponse would not create: no loss
                raise
            if custom_field is None:
                continue  # not a custom field of this account: other columns are ignored
            values = field_values(custom_field, value)
            if values:
                prepared.custom[custom_field.field_id] = values
                prepared.custom_names[custom_field.name] = values

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
        if found or not valid_field_name(ref):
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
        """The name of a tag id (imports name tags in `tag:<name>` columns)."""
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
            if error.http_status == HTTPStatus.CONFLICT:
                # `query[name]` matches by substring (the official docs' search filters).
                matches = _collection(self.client, path, {"query[name]": name})
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
