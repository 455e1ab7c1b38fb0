#!/bin/bash
# Usage: benches/postgres/side_by_side.sh (after cargo build --release; PostgreSQL at 127.0.0.1:5432, user postgres).
# Writes each step's log to /tmp/pgbench; see docs/BENCHMARKS.md "The same on PostgreSQL".
# Side-by-side: SQLite vs PostgreSQL, same binary, same data, same machine.
set -u
cd "$(dirname "$0")/../.."
B=target/release/cccwatch
PGADMIN=postgres://postgres@127.0.0.1:5432/test
PG=postgres://postgres@127.0.0.1:5432/ccc_bench
SQ=sqlite:///tmp/bench_sq.db
OUT=/tmp/pgbench
mkdir -p $OUT
[ -f /tmp/synth_1m/certificates.csv ] || $B gen --certs 1000000 --listings 100000 --out-dir /tmp/synth_1m --seed 42
psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS ccc_bench WITH (FORCE)" -c "CREATE DATABASE ccc_bench TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
rm -f /tmp/bench_sq.db*
run() { # name db args...
  local name=$1 db=$2; shift 2
  echo "== $name"
  /usr/bin/time -f "$name wall %e s, peak RSS %M KB, user %U s, sys %S s" \
    env RUST_LOG=warn,sqlx::query=debug $B --no-progress --db "$db" "$@" 2> $OUT/$name.err > $OUT/$name.out
  tail -1 $OUT/$name.err
  echo "$name statements: $(sed 's/\x1b\[[0-9;]*m//g' $OUT/$name.err | grep -c 'summary='), database seconds: $(sed 's/\x1b\[[0-9;]*m//g' $OUT/$name.err | grep -o 'elapsed_secs=[0-9.e-]*' | cut -d= -f2 | awk '{s+=$1} END {printf "%.2f", s}')"
}
for pair in "sq $SQ" "pg $PG"; do
  set -- $pair; n=$1; db=$2
  run import_$n $db certdb import /tmp/synth_1m/certificates.csv
  run ingest_$n $db ingest --platform synth /tmp/synth_1m/listings.jsonl
  run match_$n $db match --as-of 2026-06-30
done
ls -l /tmp/bench_sq.db* | awk '{s+=$5} END {print "sqlite bytes", s}'
psql -h 127.0.0.1 -U postgres -d ccc_bench -Atc "select 'pg bytes', pg_database_size('ccc_bench')"
psql -h 127.0.0.1 -U postgres -d ccc_bench -Atc "select relname, pg_total_relation_size(relid) from pg_statio_user_tables order by 2 desc limit 8"
