"""The GetResponse HTTP layer shared by tap-getresponse and target-getresponse."""

from __future__ import annotations

from tap_getresponse.api.client import GetResponseClient
from tap_getresponse.api.errors import (
    ConfigError,
    ConnectionCheckError,
    ForeignHostError,
    GetResponseAPIError,
    HostUnreachableError,
    RedirectRefusedError,
    RequestFailedError,
    ResponseTooLargeError,
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
from tap_getresponse.api.log_filter import SECRET_LOG_FILTER
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
    "HostUnreachableError",
    "RateGovernor",
    "RedirectRefusedError",
    "RequestFailedError",
    "ResponseTooLargeError",
    "check_connection_settings",
    "mask_secrets",
    "plugin_config_errors",
    "redact",
    "redact_headers",
    "schema_errors_without_secrets",
]
