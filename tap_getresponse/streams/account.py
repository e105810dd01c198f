"""The account and account-wide settings: accounts, GDPR fields, workflows (§3.11, §3.16, §3.18)."""

from __future__ import annotations

from tap_getresponse.client import GetResponseStream


class AccountsStream(GetResponseStream):
    """`GET /accounts`: one object describing the account the credentials belong to."""

    name = "accounts"
    path = "/accounts"
    primary_keys = ("accountId",)
    paginated = False


class GdprFieldsStream(GetResponseStream):
    """GDPR consent fields, read in full."""

    name = "gdpr_fields"
    path = "/gdpr-fields"
    primary_keys = ("gdprFieldId",)
    sort_field = "createdOn"


class WorkflowsStream(GetResponseStream):
    """Automation workflows (`/workflow`, singular); no filter or sort, read in full."""

    name = "workflows"
    path = "/workflow"
    primary_keys = ("workflowId",)
