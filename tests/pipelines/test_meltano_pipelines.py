"""`meltano run` end to end: sandbox -> tap -> PostgreSQL (full, then incremental) and back.

The module gets its own embedded PostgreSQL (temp dir, free port) and Meltano system database,
so runs here never touch the demo's state or a developer's `.meltano/meltano.db`.
"""

from __future__ import annotations

import re
import time

import pytest
import requests

from scripts import sandbox_activity
from scripts.dev import CUSTOMERS
from scripts.postgres import temporary_postgres
from scripts.runner import PER_CONTACT_STREAMS, Meltano, select_all_but
from scripts.warehouse import compare, count_table, render
from tests.sandbox import Sandbox, Scale

API_KEY = "sandbox-api-key"
SCHEMA = "getresponse"


@pytest.fixture(scope="module")
def warehouse():
    with temporary_postgres() as database:
        yield database


@pytest.fixture(scope="module")
def meltano(tmp_path_factory):
    home = tmp_path_factory.mktemp("meltano")
    runner = Meltano(system_db=home / "meltano.db", log_dir=home / "logs")
    runner.install("tap-getresponse", "target-postgres", "tap-postgres", "target-getresponse")
    return runner


@pytest.fixture(scope="module")
def source():
    with Sandbox(scale=Scale(contacts=1_500), seed=7, api_key=API_KEY) as sandbox:
        yield sandbox


def api_get(sandbox, path, **params):
    response = requests.get(
        f"{sandbox.url}{path}",
        params=params,
        headers={"X-Auth-Token": f"api-key {API_KEY}"},
        timeout=30,
    )
    response.raise_for_status()
    return response


def total_count(sandbox, path):
    return int(api_get(sandbox, path, perPage=1).headers["TotalCount"])


def sync(meltano, source, warehouse):
    meltano.env = {
        "TAP_GETRESPONSE_API_URL": source.url,
        "TAP_GETRESPONSE_API_KEY": API_KEY,
        "TAP_GETRESPONSE__SELECT": select_all_but(*PER_CONTACT_STREAMS),
        "TARGET_POSTGRES_HOST": warehouse.host,
        "TARGET_POSTGRES_PORT": str(warehouse.port),
    }
    since_ms = int(time.time() * 1000) - 1000
    report = meltano.run("getresponse-to-warehouse")
    assert report.returncode == 0, "\n".join(report.errors[-20:])
    emitted = report.counts("tap-getresponse")
    with warehouse.connect() as conn:
        checks = compare(conn, SCHEMA, emitted, since_ms)
    return emitted, checks, since_ms


def test_full_then_incremental_sync_upserts_without_duplicates(meltano, source, warehouse):
    emitted, checks, _ = sync(meltano, source, warehouse)
    assert all(check.ok for check in checks), render(checks, title="full run")
    contacts = total_count(source, "/contacts")
    assert emitted["contacts"] == contacts
    assert emitted["campaigns"] == total_count(source, "/campaigns")
    with warehouse.connect() as conn:
        assert count_table(conn, SCHEMA, "contacts").rows == contacts
        assert not set(PER_CONTACT_STREAMS) & set(emitted)

    edited = sandbox_activity.change_contacts(source.url, API_KEY, 25)
    emitted, checks, since_ms = sync(meltano, source, warehouse)
    assert all(check.ok for check in checks), render(checks, title="incremental run")
    assert 25 <= emitted["contacts"] < contacts, "the second run should read changes only"
    with warehouse.connect() as conn:
        table = count_table(conn, SCHEMA, "contacts", since_ms)
        assert table.rows == contacts
        assert table.duplicate_keys == 0
        rows = conn.execute(
            'SELECT "contactId", name FROM getresponse.contacts WHERE "contactId" = ANY(%s)',
            (edited,),
        ).fetchall()
    assert len(rows) == len(edited)
    assert all(name.endswith("(edited)") for _, name in rows)

    # Nothing changed since: the run re-reads only the lookback window before the bookmark
    # (the edited contacts), and upserting them again leaves one row per contact.
    emitted, checks, _ = sync(meltano, source, warehouse)
    assert all(check.ok for check in checks), render(checks, title="rerun without changes")
    assert len(edited) <= emitted["contacts"] < contacts
    with warehouse.connect() as conn:
        table = count_table(conn, SCHEMA, "contacts")
    assert (table.rows, table.duplicate_keys) == (contacts, 0)


def test_max_account_extractor_sends_its_domain_and_loads_its_own_schema(meltano, warehouse):
    domain = "brand-a.example.com"  # tap-getresponse--brand-a's `domain` in meltano.yml
    with Sandbox(scale=Scale(contacts=300), seed=3, api_key=API_KEY, domain=domain) as account:
        meltano.env = {
            # Inherited from tap-getresponse's variables: only `domain` is the account's own.
            "TAP_GETRESPONSE_API_URL": account.url,
            "TAP_GETRESPONSE_API_KEY": API_KEY,
            "TAP_GETRESPONSE__BRAND_A__SELECT": '["campaigns.*", "contacts.*"]',
            "TARGET_POSTGRES_HOST": warehouse.host,
            "TARGET_POSTGRES_PORT": str(warehouse.port),
        }
        report = meltano.run("tap-getresponse--brand-a", "target-postgres")
        assert report.returncode == 0, "\n".join(report.errors[-20:])
        assert {entry.x_domain for entry in account.log} == {domain}
    assert report.counts("tap-getresponse--brand-a")["contacts"] == 300
    with warehouse.connect() as conn:
        assert count_table(conn, "getresponse_brand_a", "contacts").rows == 300


def warehouse_contacts(sandbox):
    lists = {c["name"]: c["campaignId"] for c in api_get(sandbox, "/campaigns").json()}
    listed = api_get(
        sandbox,
        "/contacts",
        perPage=1000,
        **{"query[email]": "@shop.example.com", "query[campaignId]": lists["customers"]},
    ).json()
    return {contact["email"]: contact["contactId"] for contact in listed}


def contact_updates(sandbox):
    """Contact updates the sandbox answered (`POST /contacts/{contactId}`)."""
    return sum(
        1
        for entry in sandbox.log
        if entry.method == "POST"
        and re.fullmatch(r"/contacts/[^/]+", entry.path)
        and entry.path != "/contacts/batch"
        and entry.status == 200
    )


def details(sandbox, contact_id):
    contact = api_get(sandbox, f"/contacts/{contact_id}").json()
    fields = {v["name"]: v["value"] for v in contact["customFieldValues"]}
    return contact["name"], fields, sorted(tag["name"] for tag in contact["tags"])


def test_warehouse_customers_become_getresponse_contacts_and_updates_upsert(meltano, warehouse):
    with warehouse.connect() as conn:
        conn.execute(CUSTOMERS)
    with Sandbox(scale=Scale(contacts=200), seed=11, api_key=API_KEY) as account:
        meltano.env = {
            "TAP_POSTGRES_HOST": warehouse.host,
            "TAP_POSTGRES_PORT": str(warehouse.port),
            "TARGET_GETRESPONSE_API_URL": account.url,
            "TARGET_GETRESPONSE_API_KEY": API_KEY,
        }
        report = meltano.run("warehouse-to-getresponse")
        assert report.returncode == 0, "\n".join(report.errors[-20:])
        assert report.counts("tap-postgres") == {"crm-customers": 40}
        assert report.counts("target-getresponse") == {"contacts": 40}
        contacts = warehouse_contacts(account)
        assert len(contacts) == 40
        assert details(account, contacts["customer10@shop.example.com"]) == (
            "Customer 10",
            {"customer_tier": ["gold"]},
            ["customer", "vip"],
        )

        # Nothing changed: tap-postgres reads only the row at its bookmark (the newest
        # `updated_at`, compared with >=), so one contact is updated again, not all 40.
        updates_before = contact_updates(account)
        report = meltano.run("warehouse-to-getresponse")
        assert report.returncode == 0, "\n".join(report.errors[-20:])
        assert report.counts("tap-postgres") == {"crm-customers": 1}
        assert contact_updates(account) - updates_before <= 1

        # An edit in the warehouse reaches the existing contact (load_method: upsert).
        with warehouse.connect() as conn:
            conn.execute(
                "UPDATE crm.customers SET customer_tier = 'platinum', updated_at = now() "
                "WHERE id = 10"
            )
        updates_before = contact_updates(account)
        report = meltano.run("warehouse-to-getresponse")
        assert report.returncode == 0, "\n".join(report.errors[-20:])
        assert report.counts("tap-postgres") == {"crm-customers": 2}  # the edit, the bookmark row
        assert 1 <= contact_updates(account) - updates_before <= 2
        assert warehouse_contacts(account) == contacts, "no contact added twice"
        assert details(account, contacts["customer10@shop.example.com"])[1] == {
            "customer_tier": ["platinum"]
        }
