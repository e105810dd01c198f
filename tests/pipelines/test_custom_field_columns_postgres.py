"""Custom-field columns arrive typed in PostgreSQL: tap (discovered catalog) -> target-postgres.

`--discover` gives `contact_details` one `cf_<field name>` column per custom field, typed from
the field (README, "Custom fields as columns"); target-postgres (MeltanoLabs) creates the table
from that schema. Every kind of field is here: number, date, datetime, the multi-value formats
(`multi_select`, `checkbox`) and text, with the column type PostgreSQL ends up with and the
values a contact's row holds.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from decimal import Decimal

import pytest
import requests

from scripts.postgres import temporary_postgres
from scripts.runner import Meltano
from tests.sandbox import Scale
from tests.tap.conftest import run_cli, sandbox_config

SCHEMA = "typed_fields"
#: field name -> (values set on one contact, PostgreSQL column type, value read back).
FIELDS = {
    "lifetime_value": (["1200.5"], "numeric", Decimal("1200.5")),
    "birthday": (["1985-04-12"], "date", dt.date(1985, 4, 12)),
    # target-postgres maps format date-time to TIMESTAMP (no zone): the tap sends UTC.
    "last_purchase": (["2026-01-15 18:30:00"], "timestamp without time zone", None),
    "interests": (["music", "sport"], "text[]", ["music", "sport"]),
    "consents": (["email", "sms"], "text[]", ["email", "sms"]),
    "customer_tier": (["gold"], "text", "gold"),
    "age": (["30-44"], "text", "30-44"),
}
PURCHASE = dt.datetime(2026, 1, 15, 18, 30)  # noqa: DTZ001 - the column holds UTC without a zone


@pytest.fixture(scope="module")
def target_postgres(tmp_path_factory):
    runner = Meltano(system_db=tmp_path_factory.mktemp("meltano") / "meltano.db")
    runner.install("target-postgres")
    return runner.project_root / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin"


def load(binary_dir, database, tmp_path, messages) -> None:
    config = {
        "host": database.host,
        "port": database.port,
        "user": database.user,
        "password": "trusted",
        "database": "postgres",
        "default_target_schema": SCHEMA,
    }
    path = tmp_path / "target.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(
        [str(binary_dir / "target-postgres"), "--config", str(path)],
        input="".join(json.dumps(m) + "\n" for m in messages),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def add_checkbox_field(sb) -> None:
    """A `checkbox` field, which the seeded ones lack, created as a user's API call would."""
    response = requests.post(
        f"{sb.url}/custom-fields",
        headers={"X-Auth-Token": f"api-key {sb.api_key}"},
        json={
            "name": "consents",
            "type": "string",
            "format": "checkbox",
            "hidden": "false",
            "values": ["email", "sms", "phone"],
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text


def column_types(conn) -> dict[str, str]:
    rows = conn.execute(
        "SELECT column_name, data_type, udt_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = 'contact_details' AND column_name LIKE 'cf\\_%%'",
        (SCHEMA,),
    ).fetchall()
    return {name: f"{udt[1:]}[]" if kind == "ARRAY" else kind for name, kind, udt in rows}


def test_custom_field_columns_arrive_typed(make_sandbox, target_postgres, tmp_path):
    sb = make_sandbox(scale=Scale(contacts=20, campaigns=2), seed=9)
    add_checkbox_field(sb)
    ids = {field["name"]: field["customFieldId"] for field in sb.data.custom_fields}
    typed = sb.data.add_contact(
        "typed.values@mail.test",
        custom_fields={ids[name]: values for name, (values, _, _) in FIELDS.items()},
    )
    bare = sb.data.add_contact("no.values@mail.test", custom_fields={})
    unfit = {ids["lifetime_value"]: ["plenty"], ids["birthday"]: ["someday"]}
    odd = sb.data.add_contact("odd.values@mail.test", custom_fields=unfit)
    run = run_cli(tmp_path, sandbox_config(sb), streams=["contacts", "contact_details"])
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.result.records["contact_details"]) == len(sb.data.contacts)
    with temporary_postgres() as database:
        load(target_postgres, database, tmp_path, run.result.messages)
        with database.connect() as conn:
            types = column_types(conn)
            names = [f"cf_{name}" for name in FIELDS]
            select = ", ".join(f'"{name}"' for name in names)
            query = f'SELECT {select} FROM {SCHEMA}.contact_details WHERE "contactId" = %s'  # noqa: S608 - our own column names
            row = dict(zip(names, conn.execute(query, (typed,)).fetchone(), strict=True))
            empty = conn.execute(query, (bare,)).fetchone()
            nulled = dict(zip(names, conn.execute(query, (odd,)).fetchone(), strict=True))
            loaded = conn.execute(f"SELECT count(*) FROM {SCHEMA}.contact_details").fetchone()[0]  # noqa: S608
    assert types == {f"cf_{f['name']}": types.get(f"cf_{f['name']}") for f in sb.data.custom_fields}
    assert {f"cf_{name}": types[f"cf_{name}"] for name in FIELDS} == {
        f"cf_{name}": kind for name, (_, kind, _) in FIELDS.items()
    }
    for name, (_, _, expected) in FIELDS.items():
        if name != "last_purchase":
            assert row[f"cf_{name}"] == expected, name
    assert row["cf_last_purchase"] == PURCHASE
    assert empty == (None,) * len(FIELDS)
    # Values that do not fit their column are null, reported, and the row still loads.
    assert (nulled["cf_lifetime_value"], nulled["cf_birthday"]) == (None, None)
    assert "cf_lifetime_value" in run.stderr
    assert "cf_birthday" in run.stderr
    assert loaded == len(sb.data.contacts)
