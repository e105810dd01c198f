"""Compact, column-stored contacts (§3.1) so a million of them fit in memory and page fast.

Seeded rows keep only a few integer columns; their e-mail, name, tags, custom field values and the
rest are derived on demand from (seed, row). Anything written later lives in a per-row override
dict. Rows are in creation order; a deleted row stays as a tombstone.
"""

from __future__ import annotations

import random
import re
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from tests.sandbox.util import SEED_END, SEED_START, IdCodec, fmt_ts, mix, now

if TYPE_CHECKING:
    from tests.sandbox.listing import ListQuery

# §3.1 ContactListElement.origin enum (official); weights favour the common ones.
ORIGINS = (
    "import", "email", "www", "panel", "leads", "sale", "api", "survey", "iphone", "copy",
    "landing_page", "webinar", "website_builder_elegant", "chat", "course", "premium_newsletter",
)  # fmt: skip
_ORIGIN_WEIGHTS = (30, 5, 20, 8, 5, 3, 25, 1, 1, 1, 4, 2, 1, 1, 1, 1)
_FIRST = (
    "Anna", "John", "Maria", "Piotr", "Emma", "Liam", "Olivia", "Noah", "Zofia", "Jan", "Ava",
    "Lucas", "Mia", "Ethan", "Lena", "Adam", "Ewa", "Tom", "Nina", "Omar", "Sara", "Ivan",
)  # fmt: skip
_LAST = (
    "Smith", "Kowalski", "Nowak", "Brown", "Garcia", "Muller", "Rossi", "Dubois", "Lee", "Khan",
    "Silva", "Wojcik", "Taylor", "Martin", "Novak", "Jensen", "Sato", "Cohen", "Evans", "Moreau",
)  # fmt: skip
_DOMAINS = ("mail.test", "inbox.test", "post.test", "letters.test")
_ZONES = ("Europe/Warsaw", "Europe/London", "America/New_York", "Asia/Tokyo", "UTC")
_GEO = (
    ("54.35", "18.6667", "EU", "PL", "82", "80-387", "Gdansk"),
    ("51.5074", "-0.1278", "EU", "GB", "ENG", "EC1A", "London"),
    ("40.7128", "-74.006", "NA", "US", "NY", "10001", "New York"),
    ("35.6762", "139.6503", "AS", "JP", "13", "100-0001", "Tokyo"),
)
_SEEDED_EMAIL = re.compile(r"^[a-z]+\.[a-z]+\.(\d+)@[a-z.]+$")

_SLICES = {2: 0, 3: 16, 4: 32, 6: 48}
CONTACT_CODEC = IdCodec(width=5, multiplier=1_000_003, offset=4_321_987)


#: List elements kept built at most (about 1 KB each).
ELEMENTS_KEPT = 200_000


class ContactStore:
    """All contacts, one row each; thread safety is the owner's lock (DataStore.lock)."""

    def __init__(
        self,
        seed: int,
        count: int,
        campaign_ids: list[str],
        campaign_weights: list[float],
        base: str,
    ) -> None:
        """Seed `count` contacts over the given campaigns."""
        rng = random.Random(seed * 7919 + 17)
        self.seed = seed
        self.base = base
        self.campaign_ids = campaign_ids
        self.campaign_names: list[str | None] = []
        self.campaign_index = {cid: i for i, cid in enumerate(campaign_ids)}
        span = SEED_END - SEED_START
        created = sorted(int(SEED_START + span * rng.random()) for _ in range(count))
        self.created = array("q", created)
        # About a third were changed after subscribing, skewed towards recent changes.
        changed = [
            c if rng.random() < 0.66 else c + int((SEED_END - c) * rng.random() ** 0.5)
            for c in created
        ]
        self.changed = array("q", changed)
        self.campaign = array(
            "H", rng.choices(range(len(campaign_ids)), weights=campaign_weights, k=count)
        )
        self.origin = array("B", rng.choices(range(len(ORIGINS)), weights=_ORIGIN_WEIGHTS, k=count))
        # Two random words per row feed the hot-path fields (names, e-mail, scoring, ...).
        self.bits1 = array("Q", [rng.getrandbits(64) for _ in range(count)])
        self.bits2 = array("Q", [rng.getrandbits(64) for _ in range(count)])
        self.alive = bytearray(b"\x01") * count
        self.seeded = count
        self.deleted = 0
        self.removed: dict[int, tuple[int, str]] = {}  # row -> (deletedOn epoch, reason)
        self.over: dict[int, dict[str, Any]] = {}
        self.email_rows: dict[str, set[int]] = {}  # lower-cased e-mail -> rows (non-seeded forms)
        self.version = 0
        self.tag_ids: list[str] = []
        self.custom_fields: list[dict[str, Any]] = []
        self.tags_by_id: dict[str, dict[str, Any]] = {}
        self.fields_by_id: dict[str, dict[str, Any]] = {}
        self._cache: OrderedDict[tuple[Any, ...], Sequence[int]] = OrderedDict()
        #: Built list elements of the store's `version` (`list_element`).
        self._elements: dict[int, dict[str, Any]] = {}
        self._elements_version = -1
        self._cache_lock = threading.Lock()

    # ---- identity -------------------------------------------------------------------------
    def __len__(self) -> int:
        """Return the number of live contacts."""
        return len(self.created) - self.deleted

    def contact_id(self, row: int) -> str:
        """Return the contactId of a row."""
        return CONTACT_CODEC.encode(row)

    def row_of(self, contact_id: str) -> int | None:
        """Return the live row of a contactId, or None."""
        row = CONTACT_CODEC.decode(contact_id)
        if row is None or row >= len(self.created) or not self.alive[row]:
            return None
        return row

    def _h(self, row: int, salt: int) -> int:
        """Deterministic per-row bits: salt 1-4 and 6 from the seeded words, others hashed."""
        if salt == 1:
            return self.bits1[row]
        if salt in _SLICES:
            return (self.bits2[row] >> _SLICES[salt]) & 0xFFFF
        return mix(self.seed, row, salt)

    # ---- field accessors ------------------------------------------------------------------
    def email(self, row: int) -> str:
        """Return the e-mail of a row."""
        over = self.over.get(row)
        if over is not None and "email" in over:
            return str(over["email"])
        h = self._h(row, 1)
        first = _FIRST[h % len(_FIRST)].lower()
        last = _LAST[(h >> 16) % len(_LAST)].lower()
        return f"{first}.{last}.{row}@{_DOMAINS[(h >> 32) % len(_DOMAINS)]}"

    def name(self, row: int) -> str | None:
        """Return the name of a row."""
        over = self.over.get(row)
        if over is not None and "name" in over:
            return over["name"]  # type: ignore[no-any-return]
        h = self._h(row, 1)
        return f"{_FIRST[h % len(_FIRST)]} {_LAST[(h >> 16) % len(_LAST)]}"

    def _field(self, row: int, key: str, default: Any) -> Any:
        over = self.over.get(row)
        if over is not None and key in over:
            return over[key]
        return default

    def day_of_cycle(self, row: int) -> str | None:
        """Return dayOfCycle (a string, §3.1) or None."""
        h = self._h(row, 2)
        return self._field(row, "dayOfCycle", str(h % 120) if h % 5 < 2 else None)  # type: ignore[no-any-return]

    def scoring(self, row: int) -> float | None:
        """Return scoring (a number, §3.1) or None."""
        h = self._h(row, 3)
        return self._field(row, "scoring", (h % 200) if h % 10 < 7 else None)  # type: ignore[no-any-return]

    def ip_address(self, row: int) -> str | None:
        """Return the contact's IP (documentation ranges) or None."""
        h = self._h(row, 4)
        return self._field(row, "ipAddress", f"203.0.113.{h % 254 + 1}")  # type: ignore[no-any-return]

    def tags_of(self, row: int) -> list[str]:
        """Return the tag ids of a row."""
        over = self.over.get(row)
        if over is not None and "tags" in over:
            return list(over["tags"])
        if not self.tag_ids:
            return []
        h = self._h(row, 5)
        count = h % 4
        picked: list[str] = []
        for i in range(count):
            tag = self.tag_ids[(h >> (8 + 8 * i)) % len(self.tag_ids)]
            if tag not in picked:
                picked.append(tag)
        return picked

    def custom_values(self, row: int) -> dict[str, list[str]]:
        """Return customFieldId -> value list of a row."""
        over = self.over.get(row)
        if over is not None and "customFieldValues" in over:
            return {k: list(v) for k, v in over["customFieldValues"].items()}
        out: dict[str, list[str]] = {}
        for n, cf in enumerate(self.custom_fields[:16]):
            if not cf.get("_seed"):
                continue
            h = self._h(row, 100 + n)
            if h % 3 == 0:
                continue
            choices = cf["_seed"]
            if cf["format"] == "multi_select":
                out[cf["customFieldId"]] = sorted(
                    {choices[h % len(choices)], choices[(h >> 9) % len(choices)]}
                )
            else:
                out[cf["customFieldId"]] = [choices[(h >> 4) % len(choices)]]
        return out

    def campaign_ref(self, row: int) -> dict[str, Any]:
        """Return the `campaign` reference object of a row."""
        idx = self.campaign[row]
        cid = self.campaign_ids[idx]
        return {
            "campaignId": cid,
            "href": f"{self.base}/campaigns/{cid}",
            "name": self.campaign_names[idx],
        }

    # ---- serialisation (§3.1) -------------------------------------------------------------
    def list_element(self, row: int) -> dict[str, Any]:
        """Return the ContactListElement of a row (a copy: callers add to it).

        Built once per row until the store changes: a page of 1,000 took 7 ms to build, and ten
        pages asked at once waited on each other in this one process (benchmarks at 300 ms).
        """
        element = self.kept_element(row)
        return {**element, "campaign": dict(element["campaign"])}

    def kept_element(self, row: int) -> dict[str, Any]:
        """The ContactListElement of a row as kept: to be sent as it is, never changed."""
        if self._elements_version != self.version:
            self._elements.clear()
            self._elements_version = self.version
        element = self._elements.get(row)
        if element is None:
            element = self._list_element(row)
            if len(self._elements) < ELEMENTS_KEPT:
                self._elements[row] = element
        return element

    def _list_element(self, row: int) -> dict[str, Any]:
        """Build the ContactListElement of a row."""
        cid = CONTACT_CODEC.encode(row)
        href = f"{self.base}/contacts/{cid}"
        h = self._h(row, 6)
        item: dict[str, Any] = {
            "contactId": cid,
            "href": href,
            "name": self.name(row),
            "email": self.email(row),
            "note": self._field(row, "note", None),
            "origin": ORIGINS[self.origin[row]],
            "dayOfCycle": self.day_of_cycle(row),
            "changedOn": fmt_ts(self.changed[row]),
            "timeZone": self._field(row, "timeZone", _ZONES[h % len(_ZONES)]),
            "ipAddress": self.ip_address(row),
            "activities": f"{href}/activities",
            "campaign": self.campaign_ref(row),
            "createdOn": fmt_ts(self.created[row]),
            "scoring": self.scoring(row),
            "engagementScore": self._field(
                row, "engagementScore", (h >> 8) % 5 + 1 if h % 4 else None
            ),
        }
        # The official schema does not allow null for name/ipAddress: omit them instead (§3.1).
        if item["name"] is None:
            del item["name"]
        if item["ipAddress"] is None:
            del item["ipAddress"]
        return item

    def details(self, row: int) -> dict[str, Any]:
        """Return ContactDetails: list element + geolocation, tags, customFieldValues (§3.1)."""
        item = self.list_element(row)
        h = self._h(row, 7)
        geo = self._field(row, "geolocation", None)
        if geo is None:
            lat, lon, cont, country, region, postal, city = _GEO[h % len(_GEO)]
            geo = {
                "latitude": lat, "longitude": lon, "continentCode": cont, "countryCode": country,
                "region": region, "postalCode": postal, "dmaCode": None, "city": city,
            }  # fmt: skip
        if geo.get("continentCode") is None:
            geo = {k: v for k, v in geo.items() if k != "continentCode"}  # nullable enum: omitted
        item["geolocation"] = geo
        item["tags"] = [
            {
                "tagId": tid,
                "name": self.tags_by_id[tid]["name"],
                "href": f"{self.base}/tags/{tid}",
                "color": "",
            }
            for tid in self.tags_of(row)
            if tid in self.tags_by_id
        ]
        values = []
        for fid, vals in self.custom_values(row).items():
            cf = self.fields_by_id.get(fid)
            if cf is None:
                continue
            values.append(
                {
                    "customFieldId": fid,
                    "name": cf["name"],
                    "value": list(vals),
                    "values": list(vals),
                    "type": cf["type"],
                    "fieldType": cf["fieldType"],
                    "valueType": cf["valueType"],
                }
            )
        item["customFieldValues"] = values
        return item

    # ---- lookups --------------------------------------------------------------------------
    def rows_with_email(self, email: str) -> list[int]:
        """Return live rows whose e-mail equals `email` (case-insensitive), in row order."""
        lower = email.lower()
        rows = set(self.email_rows.get(lower, ()))
        match = _SEEDED_EMAIL.match(lower)
        if match:
            row = int(match.group(1))
            if row < self.seeded and self.alive[row] and self.email(row) == lower:
                rows.add(row)
        return sorted(r for r in rows if self.alive[r] and self.email(r).lower() == lower)

    def find(self, campaign_idx: int, email: str) -> int | None:
        """Return the live row with this e-mail on this campaign, if any."""
        for row in self.rows_with_email(email):
            if self.campaign[row] == campaign_idx:
                return row
        return None

    # ---- mutations (caller holds the store lock) ------------------------------------------
    def _touch(self) -> None:
        self.version += 1

    def _index_email(self, row: int, email: str) -> None:
        self.email_rows.setdefault(email.lower(), set()).add(row)

    def add(
        self,
        campaign_idx: int,
        email: str,
        *,
        origin: str = "api",
        created: int | None = None,
        fields: dict[str, Any] | None = None,
    ) -> int:
        """Append a contact; return its row."""
        stamp = now() if created is None else created
        row = len(self.created)
        self.created.append(stamp)
        self.changed.append(stamp)
        self.campaign.append(campaign_idx)
        self.origin.append(ORIGINS.index(origin) if origin in ORIGINS else ORIGINS.index("api"))
        self.alive.append(1)
        self.bits1.append(0)
        self.bits2.append(0)
        over: dict[str, Any] = {
            "email": email,
            "name": None,
            "note": None,
            "dayOfCycle": None,
            "scoring": None,
            "ipAddress": None,
            "tags": [],
            "customFieldValues": {},
            "engagementScore": None,
            "geolocation": {
                "latitude": None, "longitude": None, "continentCode": None, "countryCode": None,
                "region": None, "postalCode": None, "dmaCode": None, "city": None,
            },
            "timeZone": "UTC",
        }  # fmt: skip
        over.update(fields or {})
        self.over[row] = over
        self._index_email(row, email)
        self._touch()
        return row

    def update(self, row: int, fields: dict[str, Any], *, campaign_idx: int | None = None) -> None:
        """Change fields of a row and bump its changedOn to now."""
        over = self.over.setdefault(row, {})
        if "email" in fields:
            self._index_email(row, str(fields["email"]))
        over.update(fields)
        if campaign_idx is not None:
            self.campaign[row] = campaign_idx
        self.changed[row] = max(now(), self.changed[row])
        self._touch()

    def delete(self, row: int, *, reason: str = "api", when: int | None = None) -> None:
        """Remove a row (it disappears from every list but the removed-contacts search)."""
        if self.alive[row]:
            self.removed[row] = (now() if when is None else when, reason)
            self.alive[row] = 0
            self.deleted += 1
            self._touch()

    # ---- listing --------------------------------------------------------------------------
    def live_rows(self) -> Sequence[int]:
        """Return every live row in creation order."""
        if self.deleted == 0:
            return range(len(self.created))
        return self._cached(
            ("live",), lambda: array("i", (r for r, a in enumerate(self.alive) if a))
        )

    def _cached(self, key: tuple[Any, ...], build: Any) -> Sequence[int]:
        full = (self.version, *key)
        with self._cache_lock:
            hit = self._cache.get(full)
            if hit is not None:
                self._cache.move_to_end(full)
                return hit
        rows: Sequence[int] = build()
        with self._cache_lock:
            self._cache[full] = rows
            while len(self._cache) > 24:
                self._cache.popitem(last=False)
        return rows

    def select(self, query: ListQuery, campaign_idx: int | None = None) -> Sequence[int]:
        """Return the rows matching a checked query, in the requested order (cached per version)."""
        by_changed = campaign_idx is None and query.sort == [("changedOn", False)]
        if by_changed and not query.filters and set(query.ranges) <= {"changedOn"}:
            return self._changed_between(*query.range_bounds("changedOn"))
        key = ("q", campaign_idx, query.cache_key())
        return self._cached(key, lambda: self._select(query, campaign_idx))

    def _changed_between(self, low: int | None, high: int | None) -> Sequence[int]:
        """Live rows by `changedOn` within [low, high]: a slice of the rows sorted once per
        version (a tap's window ends at its run's start: each run asked for a new sort).
        """
        ordered = self._cached(
            ("by changedOn",),
            lambda: array("i", sorted(self.live_rows(), key=self.changed.__getitem__)),
        )
        stamps = self._cached(
            ("changedOn of sorted",), lambda: array("q", (self.changed[r] for r in ordered))
        )
        start = 0 if low is None else bisect_left(stamps, low)
        end = len(stamps) if high is None else bisect_right(stamps, high)
        return ordered[start:end]

    def _select(  # noqa: C901, PLR0912 - one filter per supported query[...] key
        self, query: ListQuery, campaign_idx: int | None
    ) -> Sequence[int]:
        exact = "exactMatch" in query.flags
        filters = dict(query.filters)
        rows: Sequence[int]
        email = filters.get("email")
        if email is not None and exact:
            # §2.5: exactMatch makes query[email] an equality lookup (served from the index).
            rows = self.rows_with_email(email)
            email = None
        else:
            rows = self.live_rows()
        camp: set[int] | None = None
        if campaign_idx is not None:
            camp = {campaign_idx}
        wanted = filters.get("campaignId")
        if wanted is not None:
            # §2.3: comma-separated ids are UNCONFIRMED for /contacts; accepted here.
            ids = {self.campaign_index.get(c.strip(), -1) for c in wanted.split(",")}
            camp = ids if camp is None else camp & ids
        if camp is not None:
            column = self.campaign
            if len(camp) == 1:
                (only,) = camp
                rows = [r for r in rows if column[r] == only]
            else:
                rows = [r for r in rows if column[r] in camp]
        origin = filters.get("origin")
        if origin is not None:
            code = ORIGINS.index(origin) if origin in ORIGINS else -1
            rows = [r for r in rows if self.origin[r] == code]
        for stamp_name, stamps in (("createdOn", self.created), ("changedOn", self.changed)):
            if stamp_name in query.ranges:
                low, high = query.range_bounds(stamp_name)
                lo = low if low is not None else -(1 << 62)
                hi = high if high is not None else 1 << 62
                rows = [r for r in rows if lo <= stamps[r] <= hi]
        if email is not None:
            needle = email.lower()  # §2.3: LIKE (substring) unless exactMatch
            rows = [r for r in rows if needle in self.email(r).lower()]
        name = filters.get("name")
        if name is not None:
            needle = name.lower()
            if exact:
                rows = [r for r in rows if (self.name(r) or "").lower() == needle]
            else:
                rows = [r for r in rows if needle in (self.name(r) or "").lower()]
        if not query.sort:
            return rows if isinstance(rows, (range, array)) else array("i", rows)
        ordered = list(rows)
        for field_name, descending in reversed(query.sort):
            ordered.sort(key=self._sort_key(field_name), reverse=descending)
        return array("i", ordered)

    def _sort_key(self, field_name: str) -> Any:
        if field_name == "createdOn":
            return self.created.__getitem__
        if field_name == "changedOn":
            return self.changed.__getitem__
        if field_name == "campaignId":
            return lambda r: self.campaign_ids[self.campaign[r]]
        if field_name == "email":
            return lambda r: self.email(r).lower()
        return lambda r: (self.name(r) or "").lower()

    def iter_rows(self) -> Iterator[int]:
        """Iterate live rows."""
        return iter(self.live_rows())
