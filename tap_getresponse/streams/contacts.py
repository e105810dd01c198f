"""Contacts and what hangs off them (reference §3.1)."""

from __future__ import annotations

from tap_getresponse.client import GetResponseStream


class ContactsStream(GetResponseStream):
    """Contacts, incremental on `changedOn` (§3.21); one record per contact per list."""

    name = "contacts"
    path = "/contacts"
    primary_keys = ("contactId",)
    replication_key = "changedOn"
    window_field = "changedOn"
    is_sorted = True
