"""The GetResponse HTTP layer shared by tap-getresponse and target-getresponse."""

from __future__ import annotations

from tap_getresponse.api.client import GetResponseClient, GetResponseSession
from tap_getresponse.api.errors import (
    ConfigError,
    ConnectionCheckError,
    GetResponseAPIError,
    redact,
    redact_headers,
)
from tap_getresponse.api.governor import (
    GOVERNOR,
    EndpointLimit,
    GovernorStats,
    RateGovernor,
)
from tap_getresponse.api.settings import (
    CONNECTION_SETTINGS,
    check_connection_settings,
    plugin_config_errors,
)

__all__ = [
    "CONNECTION_SETTINGS",
    "GOVERNOR",
    "ConfigError",
    "ConnectionCheckError",
    "EndpointLimit",
    "GetResponseAPIError",
    "GetResponseClient",
    "GetResponseSession",
    "GovernorStats",
    "RateGovernor",
    "check_connection_settings",
    "plugin_config_errors",
    "redact",
    "redact_headers",
]
