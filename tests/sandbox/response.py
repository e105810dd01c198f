"""What a route answers: status, JSON body (None = empty) or raw bytes, and extra headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    """One HTTP answer."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Bytes sent as they are instead of `body` (answers that are not JSON), with their type.
    raw: bytes | None = None
    content_type: str | None = None
