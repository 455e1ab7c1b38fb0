#!/usr/bin/env bash
# cccwatch's crawler vs Scrapy, side by side, on two static sites served by nginx on loopback.
#
# usage: benches/scrapy/run.sh [WORKDIR]        (default WORKDIR: a fresh mktemp -d)
#
#   A  the peer baseline's generated shop (/work/shared/bench/scrapy-fakemall/gen_site.py,
#      20,000 small product pages, 400 listing pages, robots.txt forbidding /private/);
#      Scrapy runs the peer's product_spider.py, cccwatch benches/scrapy/fakemall.toml.
#   B  real-size saved pages (gen_realsize.py): 84 copies of a saved JD search page
#      (60 cards each, ~215 KB) linking 5,040 copies of a saved Tmall item page
#      (GBK, ~780 KB); Scrapy runs realsize_spider.py, cccwatch realsize.toml, both with
#      the same selectors. The Tmall page declares GBK only ~155 KB in: the spider's
#      MetaCharsetMiddleware finds it as cccwatch does (Scrapy alone guesses iso8859-10
#      and spends ~35-50 ms per page guessing; see realsize_spider.py).
#
# Per set: Scrapy (defaults), Scrapy -s CONCURRENT_ITEMS=4, cccwatch (release binary,
# built if missing, global concurrency 64, fresh SQLite DB), one after the other, each
# under /usr/bin/time -v, each after waiting until the machine is idle. Prints one table.
# The WORKDIR keeps the venv, the sites and every log (reused by a second run).
#
# Environment: PORT (default: a free port), PAGES_B (default 84 search pages = 5,040 items),
# PRODUCTS_A (default 20000), SETS (default "A B"), PEER (the peer baseline folder),
# IDLE_MAX_BUSY (default 15: % CPU used by others that still counts as idle),
# IDLE_TIMEOUT (default 1800 s; after it the run goes on and the row is marked "busy").
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
MAIN=$(cd "$HERE/../.." && pwd)
PEER=${PEER:-/work/shared/bench/scrapy-fakemall}
PRODUCTS_A=${PRODUCTS_A:-20000}
PAGES_B=${PAGES_B:-84}
SETS=${SETS:-A B}
IDLE_MAX_BUSY=${IDLE_MAX_BUSY:-15}
IDLE_TIMEOUT=${IDLE_TIMEOUT:-1800}
BIN=$MAIN/target/release/cccwatch

die() { echo "run.sh: $*" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx not found (Debian: apt-get install -y nginx-light)"
command -v python3 >/dev/null || die "python3 not found"
python3 -c 'import venv, sqlite3' 2>/dev/null || die "python3 lacks venv or sqlite3 (Debian: apt-get install -y python3-venv)"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (Debian: apt-get install -y time)"
command -v curl >/dev/null || die "curl not found"
[ -f "$PEER/gen_site.py" ] && [ -f "$PEER/product_spider.py" ] && [ -f "$PEER/nginx.conf.in" ] \
  || die "peer baseline not found in $PEER (set PEER=...)"
[ -f /etc/nginx/mime.types ] || die "/etc/nginx/mime.types missing (the peer's nginx.conf.in includes it)"

W=${1:-$(mktemp -d)}
mkdir -p "$W"; W=$(cd "$W" && pwd)
# One run per WORKDIR, and one benchmark at a time on the machine (two crawlers at once
# would measure each other): a second run.sh waits here.
command -v flock >/dev/null || die "flock not found (util-linux)"
exec 8>"$W/.lock"; flock -n 8 || die "another run.sh is using $W"
exec 9>"${LOCK:-/tmp/cccwatch-scrapy-bench.lock}"
flock -n 9 || { echo "another run.sh is measuring on this machine; waiting for it" >&2; flock 9; }
chmod a+x "$W"  # nginx workers (nobody) must reach the sites
mkdir -p "$W/tmp" "$W/runs"
echo "workdir: $W"

# --- tools ----------------------------------------------------------------------------
if [ ! -x "$W/venv/bin/scrapy" ]; then
  echo "creating venv with scrapy in $W/venv"
  python3 -m venv "$W/venv"
  "$W/venv/bin/pip" -q install scrapy || die "pip install scrapy failed"
fi
if [ ! -x "$BIN" ]; then
  command -v cargo >/dev/null || die "$BIN missing and cargo not found"
  echo "building $BIN (cargo build --release)"
  (cd "$MAIN" && cargo build --release) || die "cargo build --release failed"
fi

# A snapshot of the binary: a rebuild by someone else during the runs must not swap it.
cp "$BIN" "$W/cccwatch"
BIN_DESC="$(cd "$MAIN" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$MAIN" && git diff --quiet HEAD -- src 2>/dev/null || echo '+local changes'), binary built $(date -r "$BIN" '+%F %T')"
echo "cccwatch binary: $BIN_DESC"

# --- sites ----------------------------------------------------------------------------
if [[ " $SETS " == *" A "* ]] && [ ! -f "$W/siteA/.done" ]; then
  rm -rf "$W/siteA"
  (cd "$PEER" && python3 gen_site.py --out "$W/siteA" --products "$PRODUCTS_A") && touch "$W/siteA/.done"
fi
if [[ " $SETS " == *" B "* ]] && [ ! -f "$W/siteB/.done" ]; then
  rm -rf "$W/siteB"
  python3 "$HERE/gen_realsize.py" --out "$W/siteB" --pages "$PAGES_B" && touch "$W/siteB/.done"
fi

# --- nginx ----------------------------------------------------------------------------
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
NPID=""
stop_nginx() {
  if [ -n "$NPID" ]; then kill -QUIT "$NPID" 2>/dev/null || true; wait "$NPID" 2>/dev/null || true; NPID=""; fi
}
trap stop_nginx EXIT
trap 'stop_nginx; exit 130' INT TERM
start_nginx() {  # $1 = site folder; the peer's nginx.conf.in serves @DIR@/site
  local site=$1 srv="$W/srv-$(basename "$1")"
  SITE=$site
  mkdir -p "$srv/tmp"; chmod -R a+rX "$site"; ln -sfn "$site" "$srv/site"
  sed -e "s#@DIR@#$srv#g" -e "s#@PORT@#$PORT#g" "$PEER/nginx.conf.in" > "$srv/nginx.conf"
  "$NGINX" -c "$srv/nginx.conf" -p "$srv/" & NPID=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/robots.txt" && return 0
    kill -0 "$NPID" 2>/dev/null || die "nginx exited (port $PORT in use? see $srv/error.log)"
    sleep 0.1
  done
  die "nginx did not answer on 127.0.0.1:$PORT (see $srv/error.log)"
}
check_served() {  # the site nginx serves is the one asked for (guards against a stale server on PORT)
  curl -sf -o "$W/tmp/probe.html" "http://127.0.0.1:$PORT/search/page-1.html" && grep -q "$1" "$W/tmp/probe.html" \
    || die "127.0.0.1:$PORT does not serve the expected set"
}

ensure_nginx() {  # restarts the server if something killed it between runs
  kill -0 "$NPID" 2>/dev/null && curl -sf -o /dev/null "http://127.0.0.1:$PORT/robots.txt" && return 0
  kill -QUIT "$NPID" 2>/dev/null || true
  echo "  nginx (pid $NPID) is gone; restarting it" >&2
  wait "$NPID" 2>/dev/null || true; NPID=""; start_nginx "$SITE"
}
server_note() {  # appended to a row's check when the server died during the run
  { kill -0 "$NPID" 2>/dev/null && curl -sf -o /dev/null "http://127.0.0.1:$PORT/robots.txt"; } || echo " NGINX-DIED"
}

# --- idle check -------------------------------------------------------------------------
cpu_busy_pct() {  # % of all CPUs busy (not idle, not iowait) over 2 s
  python3 - <<'PY'
import time
def snap():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(v), v[3] + v[4]
t0, i0 = snap(); time.sleep(2); t1, i1 = snap()
print(round(100 * (1 - (i1 - i0) / max(1, t1 - t0))))
PY
}
cpu_snapshot() {  # CPU-seconds: whole machine busy, nginx (master + workers)
  python3 - "${NPID:-0}" <<'PY'
import os, sys
hz = os.sysconf("SC_CLK_TCK"); npid = sys.argv[1]
v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
busy = sum(v[:8]) - v[3] - v[4]
ng = 0
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if p == npid or f[1] == npid:
        ng += int(f[11]) + int(f[12])
print(busy / hz, ng / hz)
PY
}
BUSY=""
wait_idle() {  # three idle 2-s samples in a row (a compile has short idle gaps)
  local start=$SECONDS b calm=0
  while :; do
    b=$(cpu_busy_pct)
    if [ "$b" -le "$IDLE_MAX_BUSY" ]; then
      calm=$((calm + 1)); [ "$calm" -ge 3 ] && { BUSY=""; return 0; }
      continue
    fi
    calm=0
    if [ $((SECONDS - start)) -ge "$IDLE_TIMEOUT" ]; then
      echo "  machine still ${b}% busy after ${IDLE_TIMEOUT}s; measuring anyway (marked busy)" >&2
      BUSY="busy${b}%"; return 0
    fi
    echo "  waiting for an idle machine (${b}% CPU busy; $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    sleep 20
  done
}

# --- runs -----------------------------------------------------------------------------
RESULTS="$W/runs/results.tsv"
: > "$RESULTS"
tv() { awk -F': ' -v k="$2" 'index($0, k) { print $2; exit }' "$1"; }

run_scrapy() {  # $1 set, $2 label, $3 spider, then extra scrapy args
  local set=$1 label=$2 spider=$3; shift 3
  local d="$W/runs/$set-$label"; rm -rf "$d"; mkdir -p "$d"
  wait_idle; ensure_nginx
  echo "[$set] $label: $(cut -d' ' -f1-3 /proc/loadavg) load; running"
  cpu_snapshot > "$d/cpu.before"
  (cd "$d" && /usr/bin/time -v -o "$d/time.txt" "$W/venv/bin/scrapy" runspider "$spider" \
      -a base="http://127.0.0.1:$PORT" -O "$d/out.jsonl" "$@" >"$d/crawl.log" 2>&1) \
    || echo "  scrapy exited non-zero, see $d/crawl.log" >&2
  cpu_snapshot > "$d/cpu.after"
  python3 - "$d" "$set" "$label" "$BUSY$(server_note)" >>"$RESULTS" <<'PY'
import json, os, re, sys
d, set_, label, busy = sys.argv[1:5]
def background(d, wall, cpu):
    (b0, n0), (b1, n1) = ([float(x) for x in open(f"{d}/cpu.{w}").read().split()] for w in ("before", "after"))
    ncpu = os.cpu_count() or 1
    other = max(0.0, (b1 - b0) - cpu - (n1 - n0))
    return f"nginx{100 * (n1 - n0) / wall:.0f}% bg{100 * other / (wall * ncpu):.0f}%"

log = open(f"{d}/crawl.log", encoding="utf-8", errors="replace").read()
stat = lambda k: float((re.search(rf"'{re.escape(k)}': ([0-9.]+)", log) or [0, 0])[1])
tv = lambda k: next(l.split(": ", 1)[1].strip() for l in open(f"{d}/time.txt") if l.strip().startswith(k))
def secs(s):
    p = [float(x) for x in s.split(":")]
    return p[-1] + 60 * p[-2] + (3600 * p[-3] if len(p) > 2 else 0)
try:
    items = [json.loads(l) for l in open(f"{d}/out.jsonl", encoding="utf-8")]
except OSError:
    items = []
if set_ == "B":
    ok = sum(1 for i in items if "Apple/苹果 iPhone 11" in (i.get("title") or "") and i.get("seller") == "苏宁易购官方旗舰店"
             and len(i.get("spec") or []) == 5)
else:
    ok = sum(1 for i in items if i.get("title") and i.get("price"))
check = "ok" if items and ok == len(items) else f"{ok}/{len(items)} good"
wall, cpu = secs(tv("Elapsed (wall clock)")), float(tv("User time")) + float(tv("System time"))
print("\t".join(map(str, [set_, label, int(stat("response_received_count")), len(items),
      wall, stat("elapsed_time_seconds"), cpu, int(tv("Maximum resident")) / 1024,
      check + " " + background(d, wall, cpu) + (" " + busy if busy else "")])))
PY
}

run_cccwatch() {  # $1 set, $2 platform
  local set=$1 platform=$2
  local d="$W/runs/$set-cccwatch"; rm -rf "$d"; mkdir -p "$d"
  wait_idle; ensure_nginx
  echo "[$set] cccwatch: $(cut -d' ' -f1-3 /proc/loadavg) load; running"
  cpu_snapshot > "$d/cpu.before"
  (cd "$MAIN" && CCCWATCH__CRAWL__PLATFORMS_DIR="$HERE" CCCWATCH__CRAWL__GLOBAL_CONCURRENCY=64 \
    /usr/bin/time -v -o "$d/time.txt" "$W/cccwatch" --db "sqlite://$d/cw.db" --no-progress \
      scan --platform "$platform" --base-url "http://127.0.0.1:$PORT" >"$d/crawl.log" 2>"$d/stderr.log") \
    || echo "  cccwatch exited non-zero, see $d/crawl.log and $d/stderr.log" >&2
  cpu_snapshot > "$d/cpu.after"
  python3 - "$d" "$set" "$BUSY$(server_note)" >>"$RESULTS" <<'PY'
import json, os, re, sqlite3, sys
d, set_, busy = sys.argv[1:4]
def background(d, wall, cpu):
    (b0, n0), (b1, n1) = ([float(x) for x in open(f"{d}/cpu.{w}").read().split()] for w in ("before", "after"))
    ncpu = os.cpu_count() or 1
    other = max(0.0, (b1 - b0) - cpu - (n1 - n0))
    return f"nginx{100 * (n1 - n0) / wall:.0f}% bg{100 * other / (wall * ncpu):.0f}%"

log = open(f"{d}/crawl.log", encoding="utf-8", errors="replace").read()
tv = lambda k: next(l.split(": ", 1)[1].strip() for l in open(f"{d}/time.txt") if l.strip().startswith(k))
def secs(s):
    p = [float(x) for x in s.split(":")]
    return p[-1] + 60 * p[-2] + (3600 * p[-3] if len(p) > 2 else 0)
m = re.search(r"pages: (\d+) fetched.*\((\d+) requests\)", log)
requests = int(m[2]) if m else 0
crawl = float((re.search(r"crawl time this run: ([0-9.]+) s", log) or [0, 0])[1])
db = sqlite3.connect(f"{d}/cw.db")
items = db.execute("select count(*) from listings").fetchone()[0]
if set_ == "B":
    ok = db.execute("select count(*) from listings where title like '%Apple/苹果 iPhone 11%' "
                    "and seller = '苏宁易购官方旗舰店' and json_array_length(params) = 5").fetchone()[0]
else:
    ok = db.execute("select count(*) from listings where title != '' and price is not null").fetchone()[0]
db_mb = db.execute("select page_count * page_size from pragma_page_count(), pragma_page_size()").fetchone()[0] / 1e6
db.close()
check = ("ok" if items and ok == items else f"{ok}/{items} good") + f" db{db_mb:.0f}MB"
wall, cpu = secs(tv("Elapsed (wall clock)")), float(tv("User time")) + float(tv("System time"))
print("\t".join(map(str, [set_, "cccwatch", requests, items, wall, crawl, cpu, int(tv("Maximum resident")) / 1024,
      check + " " + background(d, wall, cpu) + (" " + busy if busy else "")])))
PY
  rm -f "$d/cw.db" "$d/cw.db-wal" "$d/cw.db-shm"  # hundreds of MB of gzip evidence on set B
}

for set in $SETS; do
  case $set in
    A) start_nginx "$W/siteA"; check_served 'class="item"'
       run_scrapy A scrapy "$PEER/product_spider.py"
       run_scrapy A scrapy-ci4 "$PEER/product_spider.py" -s CONCURRENT_ITEMS=4
       run_cccwatch A fakemall
       stop_nginx ;;
    B) start_nginx "$W/siteB"; check_served 'gl-item'
       run_scrapy B scrapy "$HERE/realsize_spider.py"
       run_scrapy B scrapy-ci4 "$HERE/realsize_spider.py" -s CONCURRENT_ITEMS=4
       run_cccwatch B realsize
       stop_nginx ;;
    *) die "unknown set $set (A or B)" ;;
  esac
done

# --- table ----------------------------------------------------------------------------
echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GB RAM"
echo "cccwatch: $BIN_DESC (HEAD when the run started; binary copied to $W/cccwatch)"
python3 - "$RESULTS" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
hdr = ["set", "tool", "responses", "items", "wall s", "pages/s", "crawl pages/s", "CPU ms/page", "pages/CPU-s", "peak RSS MB", "check"]
out = [hdr]
for set_, tool, resp, items, wall, crawl, cpu, rss, check in rows:
    resp, wall, crawl, cpu = int(resp), float(wall), float(crawl), float(cpu)
    out.append([set_, tool, str(resp), items, f"{wall:.1f}", f"{resp / wall:.0f}" if wall else "-",
                f"{resp / crawl:.0f}" if crawl else "-", f"{1000 * cpu / resp:.2f}" if resp else "-",
                f"{resp / cpu:.0f}" if cpu else "-", f"{float(rss):.0f}", check])
w = [max(len(r[i]) for r in out) for i in range(len(hdr))]
for r in out:
    print("  ".join(c.rjust(w[i]) if i not in (0, 1, 10) else c.ljust(w[i]) for i, c in enumerate(r)))
print("pages/s: responses / wall time of the process (startup and, for cccwatch, the final match included);")
print("crawl pages/s: Scrapy's elapsed_time_seconds stat, cccwatch's 'crawl time this run';")
print("CPU: user + system time of the whole process (/usr/bin/time -v); nginx not counted.")
print("check: extracted fields verified; nginxN% = nginx CPU over the run (% of one core);")
print("bgN% = CPU used by anything else during the run (% of all cores): above ~5% the row is disturbed.")
PY
