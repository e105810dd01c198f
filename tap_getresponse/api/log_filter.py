"""SecretLogFilter: masks the secrets of every live client in each record of the process's logs."""

from __future__ import annotations

import logging
import threading
import typing as t
import weakref

from typing_extensions import override

from tap_getresponse.api.errors import mask_secrets


class HasSecrets(t.Protocol):
    """Anything that knows the secrets it is using right now (a GetResponseClient)."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """The credentials in play, including tokens obtained during the run."""
        ...


class SecretLogFilter(logging.Filter):
    """Masks the secrets of every live client in each log record: message and traceback.

    Belt and braces: the HTTP layer already builds its messages without secrets, but a library
    below it (requests, urllib3, the SDK) may quote a header or a setting in an exception.
    Clients are held weakly, so a finished run's secrets stop being searched for.
    """

    def __init__(self) -> None:
        """No sources yet; clients `watch` themselves when they are built."""
        super().__init__()
        self._lock = threading.Lock()
        self._sources: weakref.WeakSet[HasSecrets] = weakref.WeakSet()

    def watch(self, source: HasSecrets) -> None:
        """Mask `source.secrets`, as they are at each record, for as long as `source` lives."""
        with self._lock:
            self._sources.add(source)

    def install(self, *loggers: logging.Logger) -> None:
        """Filter `loggers` and every handler their records reach (the root's included)."""
        for logger in {*loggers, logging.getLogger()}:
            _add_filter(logger, self)
            current: logging.Logger | None = logger
            while current is not None:
                for handler in current.handlers:
                    _add_filter(handler, self)
                current = current.parent if current.propagate else None

    def secrets(self) -> frozenset[str]:
        """The secrets of every live source."""
        with self._lock:
            sources = list(self._sources)
        return frozenset(secret for source in sources for secret in source.secrets if secret)

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.secrets()
        if not secrets:
            return True
        message = record.getMessage()
        masked = mask_secrets(message, secrets)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            masked = mask_secrets(record.exc_text, secrets)
            if masked != record.exc_text:
                # Formatters that render `exc_info` themselves would print the original.
                record.exc_text, record.exc_info = masked, None
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info, secrets)
        return True


def _add_filter(target: logging.Filterer, log_filter: logging.Filter) -> None:
    if log_filter not in target.filters:
        target.addFilter(log_filter)


#: The one filter of this process; every GetResponseClient registers with it.
SECRET_LOG_FILTER = SecretLogFilter()
