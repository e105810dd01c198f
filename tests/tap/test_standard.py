"""The SDK's standard tap tests (discovery, sync, schemas, keys, types) against one sandbox."""

from __future__ import annotations

import time

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_getresponse.tap import TapGetResponse
from tests.conftest import GENEROUS_LIMITS
from tests.sandbox import Sandbox, Scale
from tests.tap.conftest import fast_governor

#: The suite reads the config when the class is built; the sandbox URL is filled in later.
CONFIG = {"api_url": "http://127.0.0.1:9/v3", "api_key": "sandbox-api-key", "page_size": 50}

# The SDK warns about schema properties no record filled; optional fields stay empty in seeded
# data (e.g. `techName`, MAX only), which says nothing about the tap.
pytestmark = pytest.mark.filterwarnings("ignore:Fields in transformed catalog but not in records")


def every_stream_selected() -> dict[str, object]:
    """The catalog with every stream selected (the per-contact ones are not by default)."""
    catalog = TapGetResponse(config=CONFIG, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = True
    return catalog


StandardTests = get_tap_test_class(
    TapGetResponse,
    config=CONFIG,
    parse_env_config=False,
    catalog=every_stream_selected(),
)


class TestTapGetResponse(StandardTests):  # type: ignore[misc,valid-type]
    """Standard tests; the sandbox lives as long as the class (the SDK syncs once per class)."""

    @pytest.fixture(scope="class", autouse=True)
    def _sandbox(self):
        saved = TapGetResponse.governor
        TapGetResponse.governor = fast_governor()
        add_ons = {"sms_enabled": True, "transactional_enabled": True}
        with Sandbox(scale=Scale(contacts=120), seed=5, limits=GENEROUS_LIMITS, **add_ons) as sb:
            CONFIG["api_url"] = sb.url
            # GetResponse keeps newsletter activities for 30 days and every seeded newsletter is
            # older: send one of them two days ago so newsletter_activities has records to read.
            sent = next(n for n in sb.data.newsletters if n["type"] != "draft")
            sent["_send"] = int(time.time()) - 2 * 86_400
            yield sb
        TapGetResponse.governor = saved
