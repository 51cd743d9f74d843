"""What SQLite and PostgreSQL spell differently, and nothing else.

The SQL is written once with `?` placeholders and SQLite's types; a dialect rewrites the
few places the two databases disagree, so the queries never branch on the backend. The
migrations are written once too, with a `{word}` where the spellings differ (`ddl`).
"""
from __future__ import annotations

import json


class Dialect:
    name: str  # how bot/store/migrate.py and its log name the database
    array_type = "TEXT"
    float_type = "REAL"
    empty_array = "'[]'"
    greatest = "max"

    def q(self, sql: str) -> str:
        return sql

    def ddl(self, script: str) -> str:
        """A migration in this database's spelling: {float}, {array} and {empty_array} become
        its floating-point type, its array column type and that column's empty value."""
        for word, spelling in (("{float}", self.float_type), ("{array}", self.array_type),
                               ("{empty_array}", self.empty_array)):
            script = script.replace(word, spelling)
        return script

    def executemany(self, conn, sql: str, rows: list[tuple]) -> None:
        conn.executemany(sql, rows)

    def str(self, value: str | None) -> str | None:
        return value

    def encode_array(self, values):
        raise NotImplementedError

    def decode_array(self, value) -> tuple[str, ...]:
        raise NotImplementedError

    def topic_counts_sql(self, column: str) -> str:
        raise NotImplementedError

    def week_sql(self) -> str:
        """Which 7-day bucket, counted back from the window's end (one `?`: until), holds ts:
        weeks that end where the window ends give 30 days five rows, not six calendar weeks."""
        raise NotImplementedError


class SQLiteDialect(Dialect):
    name = "sqlite"

    def encode_array(self, values) -> str:
        return json.dumps([str(v) for v in values], ensure_ascii=False)

    def decode_array(self, value) -> tuple[str, ...]:
        return tuple(json.loads(value)) if value else ()

    def topic_counts_sql(self, column: str) -> str:
        assert column in ("topics", "pitfalls")
        return (f"SELECT j.value, COUNT(DISTINCT r.record_id) FROM triage_records r, json_each(r.{column}) j "
                "WHERE r.ts >= ? AND r.ts < ? GROUP BY j.value ORDER BY 2 DESC, 1 LIMIT ?")

    def week_sql(self) -> str:
        # ts < until, so the quotient is positive and CAST truncates it down
        return "CAST((? - ts) / 604800 AS INTEGER)"


class PostgresDialect(Dialect):
    name = "postgres"
    array_type = "TEXT[]"
    float_type = "DOUBLE PRECISION"
    empty_array = "'{}'"
    greatest = "GREATEST"

    def q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def executemany(self, conn, sql: str, rows: list[tuple]) -> None:
        with conn.cursor() as cur:
            cur.executemany(sql, rows)

    def str(self, value: str | None) -> str | None:
        # PostgreSQL text cannot hold NUL; chat text occasionally does.
        return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value

    def encode_array(self, values) -> list[str]:
        return [self.str(str(v)) for v in values]

    def decode_array(self, value) -> tuple[str, ...]:
        return tuple(value or ())

    def topic_counts_sql(self, column: str) -> str:
        assert column in ("topics", "pitfalls")
        return (f"SELECT t.value, COUNT(DISTINCT r.record_id) FROM triage_records r, "
                f"unnest(r.{column}) AS t(value) WHERE r.ts >= %s AND r.ts < %s "
                "GROUP BY t.value ORDER BY 2 DESC, 1 LIMIT %s")

    def week_sql(self) -> str:
        return "CAST(FLOOR((? - ts) / 604800) AS INTEGER)"  # CAST alone rounds in PostgreSQL


DIALECTS = {d.name: d for d in (SQLiteDialect(), PostgresDialect())}
