"""The account and account-wide settings: accounts, GDPR fields, workflows."""

from __future__ import annotations

from tap_getresponse.client import GetResponseStream


class AccountsStream(GetResponseStream):
    """`GET /accounts` (OpenAPI `getAccount`): the account the credentials belong to."""

    name = "accounts"
    path = "/accounts"
    primary_keys = ("accountId",)
    paginated = False


class GdprFieldsStream(GetResponseStream):
    """GDPR consent fields (OpenAPI `getGDPRFieldList`), read in full."""

    name = "gdpr_fields"
    path = "/gdpr-fields"
    primary_keys = ("gdprFieldId",)
    sort_field = "createdOn"


class WorkflowsStream(GetResponseStream):
    """Automation workflows (`/workflow`, singular: `getWorkflowList`); read in full."""

    name = "workflows"
    path = "/workflow"
    primary_keys = ("workflowId",)
