"""The GetResponse HTTP layer shared by tap-getresponse and target-getresponse."""

from __future__ import annotations

from tap_getresponse.api.client import GetResponseClient, GetResponseSession
from tap_getresponse.api.errors import ConfigError, GetResponseAPIError, redact
from tap_getresponse.api.governor import GOVERNOR, EndpointLimit, RateGovernor
from tap_getresponse.api.settings import CONNECTION_SETTINGS, check_connection_settings

__all__ = [
    "CONNECTION_SETTINGS",
    "GOVERNOR",
    "ConfigError",
    "EndpointLimit",
    "GetResponseAPIError",
    "GetResponseClient",
    "GetResponseSession",
    "RateGovernor",
    "check_connection_settings",
    "redact",
]
