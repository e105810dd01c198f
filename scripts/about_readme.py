"""Paste each plugin's live `--about --format=markdown` into README.md between its markers.

`make readme-about` rewrites the blocks `<!-- about:tap-getresponse -->` ...
`<!-- /about:tap-getresponse -->` (and the same for target-getresponse); `--check` only reports
whether they are current. tests/pipelines/test_about_in_readme.py keeps them from drifting.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import typing as t
from pathlib import Path

from scripts.runner import PROJECT_ROOT

if t.TYPE_CHECKING:
    from collections.abc import Sequence

README = PROJECT_ROOT / "README.md"
PLUGINS = ("tap-getresponse", "target-getresponse")
#: The about output's headings start at `#`; in the README they sit under a `##` section.
HEADING_SHIFT = 2


def live_about(plugin: str) -> str:
    """`<plugin> --about --format=markdown` from the project's environment."""
    executable = Path(sys.executable).with_name(plugin)
    result = subprocess.run(
        [str(executable), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


def as_readme_block(about: str) -> str:
    """The about text as it sits in the README: headings shifted down, no trailing blanks."""
    shifted = re.sub(
        r"^(#+) ", lambda m: "#" * (len(m[1]) + HEADING_SHIFT) + " ", about, flags=re.MULTILINE
    )
    return "\n".join(line.rstrip() for line in shifted.strip().splitlines())


def markers(plugin: str) -> tuple[str, str]:
    """The opening and closing marker of a plugin's block."""
    return f"<!-- about:{plugin} -->", f"<!-- /about:{plugin} -->"


def find_block(readme: str, plugin: str) -> str | None:
    """The text between a plugin's markers, or None when the README has no such block."""
    start, end = markers(plugin)
    found = re.search(re.escape(start) + r"\n(.*?)\n?" + re.escape(end), readme, flags=re.DOTALL)
    return found[1].strip() if found else None


def replace_block(readme: str, plugin: str, block: str) -> str:
    """The README with the plugin's block replaced (appended at the end when missing)."""
    start, end = markers(plugin)
    fresh = f"{start}\n{block}\n{end}"
    if find_block(readme, plugin) is None:
        return readme.rstrip("\n") + f"\n\n{fresh}\n"
    pattern = re.escape(start) + r".*?" + re.escape(end)
    return re.sub(pattern, lambda _: fresh, readme, count=1, flags=re.DOTALL)


def settings_table(block: str) -> list[str]:
    """The rows of the `Settings` table in an about block."""
    rows: list[str] = []
    in_settings = False
    for line in block.splitlines():
        if line.startswith("#"):
            in_settings = line.rstrip().endswith(" Settings")
        elif in_settings and line.startswith("|"):
            rows.append(line.rstrip())
    return rows


def capabilities(block: str) -> list[str]:
    """The bullet list under `Capabilities`."""
    items: list[str] = []
    in_capabilities = False
    for line in block.splitlines():
        if line.startswith("#"):
            in_capabilities = line.rstrip().endswith(" Capabilities")
        elif in_capabilities and line.startswith("- "):
            items.append(line.strip("- `"))
    return items


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the README blocks, or with --check report the stale ones (exit 1)."""
    parser = argparse.ArgumentParser(prog="make readme-about", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale blocks")
    args = parser.parse_args(argv)
    readme = README.read_text()
    updated = readme
    for plugin in PLUGINS:
        updated = replace_block(updated, plugin, as_readme_block(live_about(plugin)))
    if args.check:
        stale = [p for p in PLUGINS if find_block(readme, p) != find_block(updated, p)]
        for plugin in stale:
            print(f"README.md: the --about block of {plugin} is stale: run `make readme-about`")  # noqa: T201
        return 1 if stale else 0
    if updated != readme:
        README.write_text(updated)
        print("README.md: --about blocks updated")  # noqa: T201
    else:
        print("README.md: --about blocks already current")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
