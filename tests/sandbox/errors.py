"""The documented GetResponse error resource (§5.1) and the codes the sandbox uses (§5.2)."""

from __future__ import annotations

import uuid
from typing import Any

# §5.1 / §5.2: code -> (codeDescription, default message)
CODE_TEXT: dict[int, tuple[str, str]] = {
    1: ("Internal error", "Internal server error"),
    1000: (
        "General error of validation process, more details should be in context section",
        "Validation error, see context section for more information",
    ),
    1001: (
        "Related resource cannot be found",
        "Related resource not found, see context section for more information",
    ),
    1002: (
        "Resource state forbids the action",
        "Action forbidden by the resource state",
    ),
    1008: (
        "There is another resource with the same value of unique property",
        "Property value is already taken",
    ),
    1013: ("The requested resource was not found", "Resource not found"),
    1014: (
        "Problem during authentication process, check headers!",
        "Unable to authenticate request. Check credentials or authentication method details",
    ),
    1015: (
        "Too many request to API, quota reached, please wait till next quota window",
        "You have reached your requests limit for this time window, please wait...",
    ),
    1023: ("Access forbidden", "Access to this resource is forbidden"),
}

# Default code per HTTP status for injected faults (`faults.fail_next(status=...)`).
STATUS_CODE = {400: 1000, 401: 1014, 403: 1023, 404: 1013, 409: 1008, 429: 1015}


class ApiError(Exception):
    """An error answered with the documented body (§5.1)."""

    def __init__(
        self,
        http_status: int,
        code: int,
        *,
        message: str | None = None,
        context: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Describe one error response."""
        description, default_message = CODE_TEXT.get(code, ("Error", "Error"))
        super().__init__(message or default_message)
        self.http_status = http_status
        self.code = code
        self.code_description = description
        self.message = message or default_message
        self.context = context or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """Return the §5.1 error resource (all seven fields are required)."""
        return {
            "httpStatus": self.http_status,
            "code": self.code,
            "codeDescription": self.code_description,
            "message": self.message,
            "moreInfo": f"https://apidocs.getresponse.com/v3/errors/{self.code}",
            "context": self.context,
            "uuid": str(uuid.uuid4()),
        }


def not_found(**context: Any) -> ApiError:
    """404 / 1013 for an unknown id or path (§5.1)."""
    return ApiError(404, 1013, context=context)


def validation(message: str | None = None, **context: Any) -> ApiError:
    """400 / 1000 (§5.2)."""
    return ApiError(400, 1000, message=message, context=context)


def related_missing(message: str | None = None, **context: Any) -> ApiError:
    """400 / 1001: a related resource (campaign, custom field, tag) does not exist (§5.2)."""
    return ApiError(400, 1001, message=message, context=context)


def conflict(value: str) -> ApiError:
    """409 / 1008 (§5.1)."""
    return ApiError(409, 1008, context={"value": value})


def auth_failed(message: str | None = None, **context: Any) -> ApiError:
    """401 / 1014 with the documented context (§5.1); never echoes the credential."""
    return ApiError(
        401, 1014, message=message, context=context or {"authenticationType": "auth_token"}
    )


def bad_filter(field: str, raw: str, description: str = "Not allowed search field") -> ApiError:
    """400 / 1000 for a query[...] key the endpoint does not support (§2.3)."""
    return validation(
        validationType="searchFilter[query]",
        fieldName=field,
        originalName=raw,
        errorDescription=description,
    )
