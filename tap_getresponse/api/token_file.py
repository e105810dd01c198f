"""`oauth_token_file`: where a rotated OAuth refresh token outlives the run that received it."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import typing as t
from pathlib import Path

LOGGER = logging.getLogger("getresponse.auth")
#: Owner read/write only: the file holds a credential.
FILE_MODE = 0o600


def fingerprint(refresh_token: str) -> str:
    """A one-way digest of a refresh token, to tell whether the setting changed since."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()


class RefreshTokenFile:
    """A JSON file holding the latest refresh token of one OAuth client.

    GetResponse may rotate the refresh token on each refresh (the old one then stops working);
    the new one is kept here, written atomically with mode 0600, and read at start-up in
    preference to the `refresh_token` setting, unless that setting changed since the file was
    written (a fresh authorisation wins over a kept token). Values are never logged.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        client_id: str,
        configured: str,
        logger: logging.Logger | None = None,
    ) -> None:
        """`configured` is the `refresh_token` setting the kept tokens descend from."""
        self.path = Path(path).expanduser()
        self.client_id = client_id
        self.configured = configured
        self.logger = logger or LOGGER

    def refresh_token(self) -> str:
        """The refresh token to start with: the kept one if it applies, else the setting."""
        kept = self._kept()
        if kept:
            self.logger.info("OAuth: using the refresh token kept in %s", self.path)
            return kept
        self.logger.info("OAuth: using the `refresh_token` setting")
        return self.configured

    def save(self, refresh_token: str) -> None:
        """Replace the file's content in one step (a crash leaves the old file or the new one)."""
        document = {
            "client_id": self.client_id,
            "refresh_token": refresh_token,
            "setting_sha256": fingerprint(self.configured),
            "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkstemp creates the file with mode 0600 before anything is written to it.
        handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream)
                stream.flush()
                os.fsync(stream.fileno())
            Path(temporary).chmod(FILE_MODE)
            Path(temporary).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise
        _sync_directory(self.path.parent)

    def _kept(self) -> str | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            self._ignore(f"cannot be read ({error.strerror or type(error).__name__})")
            return None
        try:
            document: t.Any = json.loads(text)
        except (ValueError, RecursionError):
            document = None
        token = document.get("refresh_token") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token.strip():
            self._ignore("holds no refresh token")
            return None
        if document.get("client_id") != self.client_id:
            self._ignore("was written for another `client_id`")
            return None
        if document.get("setting_sha256") != fingerprint(self.configured):
            self.logger.info(
                "OAuth: the `refresh_token` setting changed since %s was written; using the "
                "setting",
                self.path,
            )
            return None
        return token.strip()

    def _ignore(self, why: str) -> None:
        self.logger.warning(
            "OAuth: `oauth_token_file` %s %s; using the `refresh_token` setting", self.path, why
        )


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
