"""The README's settings tables are the live `--about --format=markdown` of both plugins."""

from __future__ import annotations

import pytest

from scripts import about_readme


@pytest.fixture(scope="module")
def readme() -> str:
    return about_readme.README.read_text()


@pytest.mark.parametrize("plugin", about_readme.PLUGINS)
def test_readme_settings_table_matches_live_about(readme, plugin):
    block = about_readme.find_block(readme, plugin)
    start, end = about_readme.markers(plugin)
    assert block is not None, f"README.md has no {start} ... {end} block: run make readme-about"
    live = about_readme.as_readme_block(about_readme.live_about(plugin))
    assert about_readme.settings_table(live), f"{plugin} --about printed no settings table"
    assert about_readme.settings_table(block) == about_readme.settings_table(live), (
        f"README.md settings of {plugin} differ from --about: run make readme-about"
    )
    assert about_readme.capabilities(block) == about_readme.capabilities(live)


def test_readme_block_round_trips():
    about = "# `tap-x`\n\nDesc.\n\n## Capabilities\n\n- `about`\n\n## Settings\n\n| a | b |\n"
    block = about_readme.as_readme_block(about)
    readme = about_readme.replace_block("# Title\n", "tap-x", block)
    assert about_readme.find_block(readme, "tap-x") == block
    assert about_readme.replace_block(readme, "tap-x", block) == readme
    assert about_readme.settings_table(block) == ["| a | b |"]
    assert about_readme.capabilities(block) == ["about"]
    assert block.startswith("### `tap-x`")
