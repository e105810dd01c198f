"""LoadStep: what every part of the loader (adds, updates, removals) works with."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_getresponse.api import GetResponseClient
    from target_getresponse.mapping import Prepared, RejectError
    from target_getresponse.membership import Membership
    from target_getresponse.rejects import Tally


class LoadStep:
    """The API client, the lists' membership index, the tally and the rejects, shared per run."""

    def __init__(
        self,
        client: GetResponseClient,
        membership: Membership,
        tally: Tally,
        reject: Callable[[Prepared, RejectError], None],
        *,
        dry_run: bool,
    ) -> None:
        """`dry_run`: resolve and count everything, send nothing that changes the account."""
        self.client = client
        self.membership = membership
        self.tally = tally
        self.reject = reject
        self.dry_run = dry_run
