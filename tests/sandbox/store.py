"""The sandbox's data: seeded resources, contacts, the async work queue and mutation methods."""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.sandbox import seeding
from tests.sandbox.contacts import ContactStore
from tests.sandbox.util import CANONICAL_API, MAX_API, fmt_ts, now


@dataclass(frozen=True)
class Scale:
    """How much seeded data to generate (small defaults; contacts scale to 1,000,000)."""

    campaigns: int = 5
    contacts: int = 2_000
    custom_fields: int = 8
    tags: int = 12
    from_fields: int = 3
    newsletters: int = 24
    autoresponders: int = 10
    rss_newsletters: int = 3
    click_tracks: int = 12
    search_contacts: int = 4
    imports: int = 3
    forms: int = 4
    webforms: int = 4
    landing_pages: int = 4
    lps: int = 4
    webinars: int = 3
    workflows: int = 4
    sms: int = 3
    gdpr_fields: int = 2
    shops: int = 2
    products_per_shop: int = 8
    orders_per_shop: int = 15
    activities_per_contact: int = 6


class ContactsView:
    """Read view of the contacts for tests: len, iteration, index, get(id), find(email)."""

    def __init__(self, store: DataStore) -> None:
        """Wrap the store."""
        self._store = store

    def __len__(self) -> int:
        """Return the number of visible contacts."""
        with self._store.lock:
            self._store.process_due()
            return len(self._store.contacts_store)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield ContactDetails of every visible contact, in creation order."""
        with self._store.lock:
            self._store.process_due()
            rows = list(self._store.contacts_store.live_rows())
        for row in rows:
            with self._store.lock:
                yield self._store.contacts_store.details(row)

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Return ContactDetails of the index-th visible contact."""
        with self._store.lock:
            self._store.process_due()
            rows = self._store.contacts_store.live_rows()
            return self._store.contacts_store.details(rows[index])

    def get(self, contact_id: str) -> dict[str, Any] | None:
        """Return ContactDetails by id, or None."""
        with self._store.lock:
            self._store.process_due()
            row = self._store.contacts_store.row_of(contact_id)
            return None if row is None else self._store.contacts_store.details(row)

    def find(self, email: str, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """Return ContactDetails with this e-mail (exact, case-insensitive), optionally per list."""
        with self._store.lock:
            self._store.process_due()
            cs = self._store.contacts_store
            rows = cs.rows_with_email(email)
            if campaign_id is not None:
                rows = [r for r in rows if cs.campaign_ids[cs.campaign[r]] == campaign_id]
            return [cs.details(r) for r in rows]


class DataStore:
    """Everything the sandbox serves. Methods are thread-safe (one re-entrant lock)."""

    def __init__(self, scale: Scale, seed: int, *, max_mode: bool = False) -> None:
        """Generate all seeded data deterministically from `seed`."""
        self.lock = threading.RLock()
        self.scale = scale
        self.seed = seed
        self.base = MAX_API if max_mode else CANONICAL_API
        self.max_mode = max_mode
        self.rng = random.Random(seed)
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.collections: dict[str, list[dict[str, Any]]] = {}
        self.pending_emails: set[tuple[int, str]] = set()  # (campaign index, e-mail) queued
        self.batch_results: list[dict[str, int]] = []  # per POST /contacts/batch, once applied
        seeding.seed_core(self)
        weights = [3.0] + [1.0] * (len(self.campaigns) - 1)
        self.contacts_store = ContactStore(
            seed, scale.contacts, [c["campaignId"] for c in self.campaigns], weights, self.base
        )
        self.contacts_store.campaign_names = [c["name"] for c in self.campaigns]
        self._sync_contact_refs()
        self.contacts = ContactsView(self)
        seeding.seed_rest(self)

    # ---- named collections ----------------------------------------------------------------
    @property
    def campaigns(self) -> list[dict[str, Any]]:
        """Campaigns (lists), as `Campaign` details (§3.2)."""
        return self.collections["campaigns"]

    @property
    def custom_fields(self) -> list[dict[str, Any]]:
        """Custom fields (§3.4)."""
        return self.collections["custom-fields"]

    @property
    def tags(self) -> list[dict[str, Any]]:
        """Tags (§3.5)."""
        return self.collections["tags"]

    @property
    def imports(self) -> list[dict[str, Any]]:
        """Imports (§3.10)."""
        return self.collections["imports"]

    def __getattr__(self, name: str) -> list[dict[str, Any]]:
        """Expose other collections as attributes (`data.newsletters`, `data.from_fields`)."""
        collections = self.__dict__.get("collections", {})
        key = name.replace("_", "-")
        if key in collections:
            return collections[key]  # type: ignore[no-any-return]
        raise AttributeError(name)

    def _sync_contact_refs(self) -> None:
        cs = self.contacts_store
        cs.tag_ids = [t["tagId"] for t in self.tags]
        cs.tags_by_id = {t["tagId"]: t for t in self.tags}
        cs.custom_fields = self.custom_fields
        cs.fields_by_id = {f["customFieldId"]: f for f in self.custom_fields}

    # ---- lookups --------------------------------------------------------------------------
    def find_item(self, collection: str, key: str, ident: str) -> dict[str, Any] | None:
        """Return the item of `collection` whose `key` equals `ident`."""
        for item in self.collections.get(collection, ()):
            if item.get(key) == ident:
                return item
        return None

    def campaign_idx(self, campaign_id: str) -> int | None:
        """Return the index of a campaign id, or None."""
        return self.contacts_store.campaign_index.get(campaign_id)

    def new_id(self, prefix_len: int = 4) -> str:
        """Return a fresh short id for a created resource."""
        alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        while True:
            ident = "".join(self.rng.choice(alphabet) for _ in range(prefix_len))
            if ident not in self._used_ids:
                self._used_ids.add(ident)
                return ident

    @property
    def _used_ids(self) -> set[str]:
        used: set[str] | None = self.__dict__.get("_used_id_set")
        if used is None:
            used = set()
            self.__dict__["_used_id_set"] = used
        return used

    # ---- async work -----------------------------------------------------------------------
    def schedule(self, delay: float, work: Callable[[], None]) -> None:
        """Run `work` (under the lock) once `delay` seconds have passed (§4.1: 202 then queue)."""
        with self.lock:
            if delay <= 0:
                work()
                return
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._seq), work))

    def process_due(self) -> None:
        """Apply queued work whose time has come (called at the start of every request)."""
        with self.lock:
            moment = time.monotonic()
            while self._due and self._due[0][0] <= moment:
                _, _, work = heapq.heappop(self._due)
                work()

    def pending(self) -> int:
        """Return how many queued writes are not yet applied."""
        with self.lock:
            return len(self._due)

    def flush(self) -> None:
        """Apply every queued write now, whatever its delay."""
        with self.lock:
            while self._due:
                _, _, work = heapq.heappop(self._due)
                work()

    # ---- mutation methods for tests -------------------------------------------------------
    def add_contact(  # noqa: PLR0913 - mirrors the contact properties
        self,
        email: str,
        campaign_id: str | None = None,
        *,
        name: str | None = None,
        tags: list[str] | None = None,
        custom_fields: dict[str, list[str]] | None = None,
        origin: str = "api",
        created_on: float | None = None,
        **fields: Any,
    ) -> str:
        """Add a contact now (visible at once); return its contactId."""
        with self.lock:
            cid = campaign_id or self.campaigns[0]["campaignId"]
            idx = self.campaign_idx(cid)
            if idx is None:
                msg = f"unknown campaign {cid}"
                raise KeyError(msg)
            values: dict[str, Any] = {"name": name, "tags": list(tags or [])}
            values["customFieldValues"] = dict(custom_fields or {})
            values.update(fields)
            row = self.contacts_store.add(
                idx,
                email,
                origin=origin,
                created=None if created_on is None else int(created_on),
                fields=values,
            )
            return self.contacts_store.contact_id(row)

    def update_contact(self, contact_id: str, **fields: Any) -> dict[str, Any]:
        """Change a contact (name, email, note, tags, customFieldValues, campaign_id, ...).

        Bumps changedOn to now; returns the new ContactDetails.
        """
        with self.lock:
            cs = self.contacts_store
            row = cs.row_of(contact_id)
            if row is None:
                raise KeyError(contact_id)
            campaign_id = fields.pop("campaign_id", None)
            idx = None if campaign_id is None else self.campaign_idx(campaign_id)
            if "custom_fields" in fields:
                fields["customFieldValues"] = dict(fields.pop("custom_fields"))
            cs.update(row, fields, campaign_idx=idx)
            return cs.details(row)

    def delete_contact(self, contact_id: str) -> None:
        """Delete a contact (it disappears from lists and details answer 404)."""
        with self.lock:
            row = self.contacts_store.row_of(contact_id)
            if row is None:
                raise KeyError(contact_id)
            self.contacts_store.delete(row)

    def add_item(self, collection: str, item: dict[str, Any]) -> dict[str, Any]:
        """Append a resource to a collection (created at run time)."""
        with self.lock:
            self.collections.setdefault(collection, []).append(item)
            if collection in {"tags", "custom-fields"}:
                self._sync_contact_refs()
            return item

    def remove_item(self, collection: str, item: dict[str, Any]) -> None:
        """Remove a resource from a collection."""
        with self.lock:
            self.collections[collection].remove(item)
            if collection in {"tags", "custom-fields"}:
                self._sync_contact_refs()

    def stamp(self) -> str:
        """Return the current time in the §6 timestamp form."""
        return fmt_ts(now())
