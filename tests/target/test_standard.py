"""The SDK's standard target tests against a sandbox account, each exclusion with its reason."""

from __future__ import annotations

import pytest
from singer_sdk.testing import get_target_test_class

from target_getresponse.target import TargetGetResponse
from tests.conftest import GENEROUS_LIMITS
from tests.sandbox import Sandbox, Scale

#: The suite reads the config when the class is built; the sandbox URL is filled in later.
CONFIG = {"api_url": "http://127.0.0.1:9/v3", "api_key": "sandbox-api-key", "campaign_id": "CPZ"}

StandardTests = get_target_test_class(TargetGetResponse, config=CONFIG)


class TestTargetGetResponse(StandardTests):  # type: ignore[misc,valid-type]
    """Standard tests; most SDK sample streams carry no email, so their records are rejects."""

    @pytest.fixture(scope="class", autouse=True)
    def _sandbox(self, tmp_path_factory):
        with Sandbox(scale=Scale(contacts=0), seed=1, limits=GENEROUS_LIMITS) as sb:
            CONFIG["api_url"] = sb.url
            CONFIG["campaign_id"] = sb.data.campaigns[0]["campaignId"]
            CONFIG["rejects_file"] = str(tmp_path_factory.mktemp("rejects") / "rejects.jsonl")
            yield sb

    @pytest.mark.skip(
        reason="By design a record without its stream's key properties is written to the "
        "rejects file and the run goes on; the SDK test expects the run to stop."
    )
    def test_target_record_missing_key_property(self) -> None:
        """Excluded: see the reason."""
