"""A/B tests: subject tests (`GetAbTestSubjectList`) and the older split tests (`getSplittestList`).

Both change after creation (stage, winner, scores) and neither can be filtered on a change time,
so both are read in full.
"""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_getresponse.api.collections import iter_stable_pages
from tap_getresponse.client import GetResponseStream

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from singer_sdk.helpers.types import Context

    from tap_getresponse.api.pages import Page

#: Every value of `getSplittestList`'s `query[status]`, whose default is `active`.
SPLITTEST_STATUSES = ("active", "inactive")


class AbTestsStream(GetResponseStream):
    """Subject A/B tests (`/ab-tests/subject`); no sort by creation, so none is asked for."""

    name = "ab_tests"
    path = "/ab-tests/subject"
    primary_keys = ("abTestId",)


class SplittestsStream(GetResponseStream):
    """Split tests (`/splittests`), every status: one read per status."""

    name = "splittests"
    path = "/splittests"
    primary_keys = ("splittestId",)
    sort_field = "createdOn"

    @override
    def pages(self, context: Context | None) -> Iterator[Page]:
        # Without `query[status]` the API lists active tests only (its documented default).
        reader = self.reader(self.get_path(context))
        for status in SPLITTEST_STATUSES:
            params = self.base_params() | {"query[status]": status}
            yield from iter_stable_pages(
                reader, params, key="splittestId", on_repair=self.log_repair
            )
