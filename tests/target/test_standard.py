"""The SDK's standard target tests against a sandbox account, each exclusion with its reason."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import singer_sdk.testing
from singer_sdk.testing import get_target_test_class

from target_getresponse.target import TargetGetResponse
from tests.conftest import GENEROUS_LIMITS
from tests.sandbox import Sandbox, Scale
from tests.target.conftest import rejects

#: The suite reads the config when the class is built; the sandbox URL is filled in later.
CONFIG = {"api_url": "http://127.0.0.1:9/v3", "api_key": "sandbox-api-key", "campaign_id": "CPZ"}

SDK_STREAMS = Path(singer_sdk.testing.__file__).parent / "target_test_streams"

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

    # The SDK expects these three inputs to stop the run; by design each becomes rejects and
    # the load goes on, so the same files are checked for that instead.

    def test_target_record_missing_key_property(self, tmp_path) -> None:
        """A record without its stream's key properties is a reject."""
        target, lines = run_sdk_file("record_missing_key_property", tmp_path)
        assert (target.load_run.tally.received, target.load_run.tally.rejected) == (1, 1)
        assert [line["line"] for line in lines] == [2]

    def test_target_record_before_schema(self, tmp_path) -> None:
        """A record before its stream's SCHEMA is a reject; the next one is read normally."""
        target, lines = run_sdk_file("record_before_schema", tmp_path)
        assert (target.load_run.tally.received, target.load_run.tally.rejected) == (2, 2)
        assert [line["line"] for line in lines] == [1, 3]
        assert "had no SCHEMA" in lines[0]["reason"]
        assert "missing required property 'email'" in lines[1]["reason"]

    def test_target_invalid_schema(self, tmp_path) -> None:
        """A SCHEMA without `properties` is an unreadable line, named by number and type."""
        target, lines = run_sdk_file("invalid_schema", tmp_path)
        assert (target.load_run.tally.received, target.load_run.tally.unreadable) == (1, 1)
        [line] = lines
        assert (line["line"], line["type"], line["stream"]) == (1, "SCHEMA", "test_invalid_schema")


def run_sdk_file(name: str, tmp_path: Path) -> tuple[TargetGetResponse, list[dict]]:
    """One of the SDK's test inputs through the target; the target and its rejects."""
    config = {**CONFIG, "rejects_file": str(tmp_path / "rejects.jsonl")}
    target = TargetGetResponse(config=config)
    with (
        (SDK_STREAMS / f"{name}.singer").open() as lines,
        contextlib.redirect_stdout(io.StringIO()),
    ):
        target.listen(lines)
    return target, rejects(tmp_path)
