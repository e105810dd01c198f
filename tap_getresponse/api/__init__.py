"""The GetResponse HTTP layer shared by tap-getresponse and target-getresponse."""

from __future__ import annotations

from tap_getresponse.api.client import GetResponseClient
from tap_getresponse.api.errors import (
    SECRET_LOG_FILTER,
    ConfigError,
    ConnectionCheckError,
    ForeignHostError,
    GetResponseAPIError,
    RedirectRefusedError,
    mask_secrets,
    redact,
    redact_headers,
)
from tap_getresponse.api.governor import (
    GOVERNOR,
    EndpointLimit,
    GovernorStats,
    RateGovernor,
)
from tap_getresponse.api.session import GetResponseSession
from tap_getresponse.api.settings import (
    CONNECTION_SETTINGS,
    ConnectionSettings,
    check_connection_settings,
    plugin_config_errors,
    schema_errors_without_secrets,
)

__all__ = [
    "CONNECTION_SETTINGS",
    "GOVERNOR",
    "SECRET_LOG_FILTER",
    "ConfigError",
    "ConnectionCheckError",
    "ConnectionSettings",
    "EndpointLimit",
    "ForeignHostError",
    "GetResponseAPIError",
    "GetResponseClient",
    "GetResponseSession",
    "GovernorStats",
    "RateGovernor",
    "RedirectRefusedError",
    "check_connection_settings",
    "mask_secrets",
    "plugin_config_errors",
    "redact",
    "redact_headers",
    "schema_errors_without_secrets",
]
