#!/bin/bash
# Usage: benches/cluster/workers.sh   (after cargo build --release; PostgreSQL at 127.0.0.1:5432, user postgres)
#   ITEMS=3000 (listings per marketplace)  QPS=0 (each platform's requests_per_second; 0 = no limit)
#   WORKERS="1 2 3"  SMALL=1 (3–5 KB item pages; empty: full-size 30–60 KB pages)
# Crawl throughput of `cccwatch worker` processes on one PostgreSQL database:
# three demo marketplaces (three hosts, `cccwatch market`), three platforms,
# one scan each created by `cccwatch scan` (which leaves the crawl to live
# workers and matches at the end). For each number of workers: pages/s over
# the crawl, CPU per page of the workers, and the database's cost per page
# from pg_stat_database (time spent executing statements, transactions,
# rows written) and the database's size. See docs/SCALING.md.
set -u
cd "$(dirname "$0")/../.."
B=$PWD/target/release/cccwatch
ITEMS=${ITEMS:-3000}
QPS=${QPS:-0}
WORKERS=${WORKERS:-1 2 3}
SMALL=${SMALL-1}
OUT=/tmp/clusterbench
PGADMIN="psql -q -h 127.0.0.1 -U postgres -d test"
DBNAME=ccc_cluster
URL=postgres://postgres@127.0.0.1:5432/$DBNAME
mkdir -p $OUT/platforms
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
for i in 1 2 3; do
  $B market --port $((18180 + i)) --items "$ITEMS" ${SMALL:+--small-pages} --seed $i > $OUT/market$i.log 2>&1 &
  pids+=($!)
  sed -e "s|^name = \"demo\"|name = \"m$i\"|" -e "s|http://127.0.0.1:8080|http://127.0.0.1:$((18180 + i))|" \
      -e "s|requests_per_second = 50.0|requests_per_second = $QPS.0|" -e "s|concurrency = 8|concurrency = 16|" \
      config/platforms/demo.toml > $OUT/platforms/m$i.toml
done
cat > $OUT/cccwatch.toml <<TOML
[database]
url = "$URL"
[crawl]
platforms_dir = "$OUT/platforms"
[cluster]
lease_secs = 10
renew_secs = 2
poll_ms = 200
TOML
sleep 1
stat() { # active ms, transactions, rows written, bytes
  psql -h 127.0.0.1 -U postgres -d $DBNAME -Atc "SELECT round(active_time), xact_commit + xact_rollback, tup_inserted + tup_updated + tup_deleted, pg_database_size('$DBNAME') FROM pg_stat_database WHERE datname = '$DBNAME'"
}
cpu_ms() { # user+system CPU of a process so far, ms
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' /proc/$1/stat
}
printf "%-8s %8s %8s %10s %14s %14s %12s %12s %12s\n" workers pages secs pages/s "cpu ms/page" "db ms/page" "xacts/page" "rows/page" "bytes/page"
for n in $WORKERS; do
  $PGADMIN -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" -c "CREATE DATABASE $DBNAME TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
  $B --config $OUT/cccwatch.toml db migrate > /dev/null
  wpids=()
  for w in $(seq 1 "$n"); do
    $B --config $OUT/cccwatch.toml --no-progress worker > $OUT/worker$n.$w.log 2>&1 &
    wpids+=($!)
  done
  until [ "$(psql -h 127.0.0.1 -U postgres -d $DBNAME -Atc "SELECT count(*) FROM workers WHERE role = 'worker' AND stopped_ms IS NULL")" = "$n" ]; do sleep 0.2; done
  read -r a0 x0 r0 s0 <<< "$(stat | tr '|' ' ')"
  c0=0; for p in "${wpids[@]}"; do c0=$(echo "$c0 + $(cpu_ms $p)" | bc); done
  t0=$(date +%s.%N)
  spids=()
  for i in 1 2 3; do
    $B --config $OUT/cccwatch.toml --no-progress scan --platform m$i --as-of 2026-11-28 --max-pages 5 > $OUT/scan$n.$i.log 2>&1 &
    spids+=($!)
  done
  # Crawl time: until every frontier entry is finished (matching follows).
  sleep 1
  until [ "$(psql -h 127.0.0.1 -U postgres -d $DBNAME -Atc "SELECT count(*) FROM frontier WHERE state IN ('pending', 'inflight')")" = "0" ]; do sleep 0.1; done
  t1=$(date +%s.%N)
  c1=0; for p in "${wpids[@]}"; do c1=$(echo "$c1 + $(cpu_ms $p)" | bc); done
  read -r a1 x1 r1 s1 <<< "$(stat | tr '|' ' ')"
  wait "${spids[@]}"
  pages=$(psql -h 127.0.0.1 -U postgres -d $DBNAME -Atc "SELECT sum(pages_fetched) FROM scans")
  secs=$(echo "$t1 - $t0" | bc)
  printf "%-8s %8s %8.1f %10.0f %14.3f %14.3f %12.3f %12.2f %12.0f\n" "$n" "$pages" "$secs" \
    "$(echo "$pages / $secs" | bc -l)" "$(echo "($c1 - $c0) / $pages" | bc -l)" \
    "$(echo "($a1 - $a0) / $pages" | bc -l)" "$(echo "($x1 - $x0) / $pages" | bc -l)" \
    "$(echo "($r1 - $r0) / $pages" | bc -l)" "$(echo "($s1 - $s0) / $pages" | bc -l)"
  grep -h '^scan .* of m' $OUT/scan$n.*.log | sed 's/^/    /'
  kill -TERM "${wpids[@]}"; wait "${wpids[@]}" 2>/dev/null
done
