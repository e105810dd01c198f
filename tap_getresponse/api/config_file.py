"""A `--config` file checked before the SDK reads it: one line naming what is wrong with it."""

from __future__ import annotations

import json
from pathlib import Path

from tap_getresponse.api.pages import json_kind


def config_file_problem(path: str) -> str | None:
    """What keeps `--config <path>` from being read as settings, in one line; None if nothing.

    The SDK reads the file unchecked: a missing file, a file that is not JSON (or is nested too
    deeply to read) ended in a traceback. The line never quotes the file (it holds secrets).
    """
    if path == "ENV":
        return None
    source = f"--config {path}"
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        return f"{source}: {error.strerror or type(error).__name__}"
    except UnicodeDecodeError as error:
        return f"{source} is not UTF-8 text (byte {error.start + 1})"
    except json.JSONDecodeError as error:
        return f"{source} is not JSON ({error.msg} at line {error.lineno})"
    except RecursionError:
        return f"{source} is JSON nested too deeply to read"
    return (
        None
        if isinstance(document, dict)
        else f"{source} holds {json_kind(document)}, not a JSON object"
    )
