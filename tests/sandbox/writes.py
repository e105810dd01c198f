"""Write endpoints: contacts (single, batch, update, delete), imports, tags, custom fields (§4)."""

from __future__ import annotations
