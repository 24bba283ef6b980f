"""Benchmark `passtrace registrations import` on PostgreSQL against raw binary COPY.

Run: python benchmarks/tracing_import.py [--rows 200000] [--rounds 3] [--sites 20]
     [--persons 20000] [--seed 7] [--db passtrace_bench_import]

Creates a fresh PostgreSQL database (dropped at the end), migrates it and adds
--sites sites. Each round generates a CSV of --rows registrations (fresh external
ids, --persons distinct valid ID numbers, times over 30 days with +08:00, in / out /
through, half with a temperature) and times, in the same process:

* import: registrations.imports.import_registrations on the file, exactly as the CLI
  runs it (streamed CSV, every row checked, ID numbers hashed, chunks of 10,000 rows
  binary-COPYed into a temp table and INSERT ... SELECT ... ON CONFLICT DO NOTHING,
  a commit per chunk; the stays rebuild when registrations.stays exists).
* copy: psycopg binary COPY of the very rows the import stored (read back first,
  every column), in chunks of the same size with a commit each, into a scratch table
  shaped and indexed like registrations.

Prints one JSON line: {"benchmark", "params", "results": {"import_rows_per_s",
"copy_rows_per_s", ...}, "ratios": {"import_vs_copy"}} — medians of the rounds.

Timings move with the machine's load (params.load_1m), so the results also give what
does not: CPU per row, of this process (`*_client_cpu_us_per_row`: CSV, checks, hashes,
COPY encoding) and of the PostgreSQL backends of the benchmark database
(`*_server_cpu_us_per_row`, read from /proc: the server runs on this machine), and
`import_sql_rows_per_s`, the rows over the time spent storing chunks (COPY, the
statements, the commits), i.e. the import without its Python part.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from checkpoint_env import (  # noqa: E402
    SECRET,
    create_pg_database,
    drop_pg_database,
    package_version,
)

from passtrace.core import migrate  # noqa: E402
from passtrace.core.config import Settings  # noqa: E402
from passtrace.core.ids import uuid7  # noqa: E402
from passtrace.core.runtime import Runtime  # noqa: E402
from passtrace.demo.accounts import demo_id_number  # noqa: E402
from passtrace.registrations import imports  # noqa: E402
from passtrace.sites.models import Site  # noqa: E402

DB = "passtrace_bench_import"
CST = timezone(timedelta(hours=8))  # how the other systems write their times


def write_csv(path: Path, rnd: random.Random, *, rows: int, tag: str, sites: list[str],
              persons: list[str]) -> None:
    """A file as another system would export it (one round's fresh external ids)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("external_id,site_code,id_number,occurred_at,direction,temperature,plate\n")
        for i in range(rows):
            when = (start + timedelta(seconds=rnd.randrange(30 * 86400))).astimezone(
                CST).isoformat()
            temp = f"{rnd.uniform(36.0, 37.2):.1f}" if i % 2 else ""
            fh.write(f"{tag}-{i},{rnd.choice(sites)},{rnd.choice(persons)},{when},"
                     f"{rnd.choice(('in', 'out', 'through'))},{temp},\n")


def server_cpu(dsn: str) -> dict[int, float]:
    """CPU seconds used so far by each backend of the benchmark database (Linux /proc)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        pids = [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the backends used between two server_cpu readings."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def copy_baseline(dsn: str, tag: str, chunk: int) -> tuple[float, int, float, float]:
    """Binary COPY of the rows the import stored, into the scratch table.

    Returns (seconds, rows, client CPU seconds, server CPU seconds).
    """
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                        "WHERE attrelid = 'registrations'::regclass AND attnum > 0 "
                        "AND NOT attisdropped ORDER BY attnum")
            columns = cur.fetchall()
            names = [n for n, _ in columns]
            types = [t.split("(")[0] for _, t in columns]
            cur.execute(f"SELECT {', '.join(names)} FROM registrations "
                        "WHERE external_id LIKE %s", (f"{tag}-%",))
            rows = cur.fetchall()
        conn.commit()
        cpu, server = time.process_time(), server_cpu(dsn)
        start = time.perf_counter()
        for i in range(0, len(rows), chunk):
            with conn.cursor() as cur, cur.copy(
                    f"COPY registrations_copy ({', '.join(names)}) FROM STDIN "
                    "(FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows[i:i + chunk]:
                    copy.write_row(row)
            conn.commit()
        elapsed = time.perf_counter() - start
        return (elapsed, len(rows), time.process_time() - cpu,
                spent(server, server_cpu(dsn)))


class _StoreClock:
    """Times the import's chunk storing (imports._store_postgres and the commit)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.real = imports._store_postgres

    def __call__(self, *args: object, **kwargs: object) -> tuple[int, int]:
        start = time.perf_counter()
        try:
            return self.real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            self.seconds += time.perf_counter() - start

    def commit(self, session: object) -> object:
        def timed() -> None:
            start = time.perf_counter()
            try:
                session.commit()  # type: ignore[attr-defined]
            finally:
                self.seconds += time.perf_counter() - start
        return timed


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the benchmark and print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default=DB, help="the scratch database's name (dropped)")
    args = parser.parse_args(argv)
    rnd = random.Random(args.seed)
    load = round(os.getloadavg()[0], 2)
    url = create_pg_database(args.db)
    settings = Settings(env="test", database_url=url, secret_key=SECRET)
    rt = Runtime.build(settings)
    try:
        migrate.upgrade(rt.engine)
        codes = [f"BENCH-{i:03d}" for i in range(args.sites)]
        with rt.sessions() as session:
            session.add_all(Site(id=uuid7(), code=c, name=c, kind="venue",
                                 area_code="520102", lanes=["1"]) for c in codes)
            session.commit()
        persons = list({demo_id_number("520102", (datetime(1960, 1, 1) + timedelta(
            days=i // 900)).strftime("%Y%m%d"), f"{100 + i % 900}")
            for i in range(args.persons)})
        dsn = make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        with psycopg.connect(dsn) as conn:
            conn.execute("CREATE TABLE registrations_copy (LIKE registrations INCLUDING ALL)")
        rates: list[float] = []
        copy_rates: list[float] = []
        sql_rates: list[float] = []
        cpu: dict[str, list[float]] = {"import_client": [], "import_server": [],
                                       "copy_client": [], "copy_server": []}
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                path = Path(tmp) / f"round{r}.csv"
                tag = f"b{r}"
                write_csv(path, rnd, rows=args.rows, tag=tag, sites=codes, persons=persons)
                clock = _StoreClock()
                imports._store_postgres = clock  # type: ignore[assignment]
                client, server = time.process_time(), server_cpu(dsn)
                try:
                    with rt.sessions() as session, path.open("rb") as fh:
                        start = time.perf_counter()
                        done = imports.import_registrations(
                            session=session, vault=rt.vault, actor=None, stream=fh,
                            commit=clock.commit(session))
                        elapsed = time.perf_counter() - start
                finally:
                    imports._store_postgres = clock.real  # type: ignore[assignment]
                cpu["import_client"].append(time.process_time() - client)
                cpu["import_server"].append(spent(server, server_cpu(dsn)))
                sql_rates.append(args.rows / clock.seconds)
                if done.imported != args.rows or done.refused:
                    raise RuntimeError(f"import stored {done.imported}, refused "
                                       f"{done.refused}: {done.problems[:3]}")
                rates.append(args.rows / elapsed)
                copy_s, copied, copy_client, copy_server = copy_baseline(
                    dsn, tag, imports.CHUNK_ROWS)
                copy_rates.append(copied / copy_s)
                cpu["copy_client"].append(copy_client)
                cpu["copy_server"].append(copy_server)
        ratios = [a / b for a, b in zip(rates, copy_rates, strict=True)]
        summary: dict[str, object] = {
            "benchmark": "tracing_import",
            "params": {"rows": args.rows, "rounds": args.rounds, "sites": args.sites,
                       "persons": args.persons, "chunk_rows": imports.CHUNK_ROWS,
                       "seed": args.seed, "python": platform.python_version(),
                       "psycopg": package_version("psycopg"),
                       "stays_rebuilt": _has_stays(), "load_1m": load},
            "results": {"import_rows_per_s": round(statistics.median(rates)),
                        "copy_rows_per_s": round(statistics.median(copy_rates)),
                        "import_rows_per_s_rounds": [round(x) for x in rates],
                        "copy_rows_per_s_rounds": [round(x) for x in copy_rates],
                        "import_sql_rows_per_s": round(statistics.median(sql_rates)),
                        **{f"{k}_cpu_us_per_row": round(statistics.median(v) / args.rows
                                                        * 1e6, 1)
                           for k, v in cpu.items()},
                        # Per round: the tables grow a round at a time, and so does the
                        # CPU a row (index pages no longer in shared_buffers).
                        **{f"{k}_cpu_us_per_row_rounds": [round(x / args.rows * 1e6, 1)
                                                          for x in v]
                           for k, v in cpu.items()}},
            "ratios": {"import_vs_copy": round(statistics.median(ratios), 3)},
        }
    finally:
        rt.engine.dispose()
        drop_pg_database(args.db)
    print(json.dumps(summary))
    return summary


def _has_stays() -> bool:
    import importlib.util

    return importlib.util.find_spec("passtrace.registrations.stays") is not None


if __name__ == "__main__":
    main()
