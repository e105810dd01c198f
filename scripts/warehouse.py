"""Count what a load left in PostgreSQL and compare it with what the tap emitted, per stream."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from psycopg import sql

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    import psycopg

#: Set on every row by SDK targets with `add_record_metadata`: when the target's run started
#: (epoch milliseconds), so rows inserted or upserted by one run are exactly those with its value.
SYNC_STARTED_AT = "_sdc_sync_started_at"


@dataclass(frozen=True)
class TableCounts:
    """Rows in one table: all of them, those written by the run, and primary keys seen twice."""

    rows: int
    written: int | None
    duplicate_keys: int | None


@dataclass(frozen=True)
class StreamCheck:
    """One line of the comparison: a stream's records against its table's rows."""

    stream: str
    emitted: int
    table: TableCounts | None

    @property
    def ok(self) -> bool:
        """Every record emitted became a row written by this run, and no key appears twice."""
        if self.table is None:
            return self.emitted == 0
        written = self.table.written if self.table.written is not None else self.table.rows
        return written == self.emitted and not self.table.duplicate_keys


def primary_key(conn: psycopg.Connection[t.Any], schema: str, table: str) -> list[str]:
    """The table's primary key columns, in key order (empty when it has none)."""
    rows = conn.execute(
        """
        SELECT a.attname
        FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass
          AND i.indisprimary
        ORDER BY array_position(i.indkey, a.attnum)
        """,
        (schema, table),
    ).fetchall()
    return [str(row[0]) for row in rows]


def tables(conn: psycopg.Connection[t.Any], schema: str) -> list[str]:
    """Base tables in `schema`."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
        (schema,),
    ).fetchall()
    return [str(row[0]) for row in rows]


def has_column(conn: psycopg.Connection[t.Any], schema: str, table: str, column: str) -> bool:
    """Whether `schema.table` has `column`."""
    row = conn.execute(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s AND column_name = %s",
        (schema, table, column),
    ).fetchone()
    return row is not None


def count_table(
    conn: psycopg.Connection[t.Any],
    schema: str,
    table: str,
    since_ms: int | None = None,
) -> TableCounts:
    """Counts for one table; `written` counts rows stamped by a run started at or after since_ms."""
    name = sql.Identifier(schema, table)
    total = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone()
    rows = int(total[0]) if total else 0
    written: int | None = None
    if since_ms is not None and has_column(conn, schema, table, SYNC_STARTED_AT):
        query = sql.SQL("SELECT count(*) FROM {} WHERE {} >= %s").format(
            name, sql.Identifier(SYNC_STARTED_AT)
        )
        found = conn.execute(query, (since_ms,)).fetchone()
        written = int(found[0]) if found else 0
    key = primary_key(conn, schema, table)
    duplicates: int | None = None
    if key:
        query = sql.SQL("SELECT count(*) - count(DISTINCT ({})) FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(column) for column in key), name
        )
        found = conn.execute(query).fetchone()
        duplicates = int(found[0]) if found else 0
    return TableCounts(rows=rows, written=written, duplicate_keys=duplicates)


def compare(
    conn: psycopg.Connection[t.Any],
    schema: str,
    emitted: Mapping[str, int],
    since_ms: int | None = None,
) -> list[StreamCheck]:
    """One check per stream the tap emitted or the schema holds, sorted by stream name."""
    present = set(tables(conn, schema))
    streams = sorted(set(emitted) | present)
    return [
        StreamCheck(
            stream=stream,
            emitted=emitted.get(stream, 0),
            table=count_table(conn, schema, stream, since_ms) if stream in present else None,
        )
        for stream in streams
    ]


def is_empty(check: StreamCheck) -> bool:
    """No record emitted and no row in the table: a stream the source has no data for."""
    return check.ok and check.emitted == 0 and (check.table is None or check.table.rows == 0)


def render(checks: list[StreamCheck], *, title: str) -> str:
    """A plain-text table: stream, records, rows written by the run, rows, dup keys, status.

    Streams with no records and no rows are summed up in one line below the table.
    """
    header = ("stream", "tap records", "rows written", "rows in table", "dup keys", "status")
    lines = [header]
    empty = [check.stream for check in checks if is_empty(check)]
    for check in checks:
        if is_empty(check):
            continue
        table = check.table
        lines.append(
            (
                check.stream,
                str(check.emitted),
                "-" if table is None or table.written is None else str(table.written),
                "-" if table is None else str(table.rows),
                "-" if table is None or table.duplicate_keys is None else str(table.duplicate_keys),
                "OK" if check.ok else "MISMATCH",
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = [title]
    for index, row in enumerate(lines):
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    if empty:
        out.append(f"(and {len(empty)} streams with no records in the source: OK)")
    return "\n".join(out)
