#!/usr/bin/env bash
# make bench: Stockroom side by side with its references.
#
#   make bench            every benchmark, 5 runs each (about 10 minutes,
#                         plus about 4 minutes once to build the 1 M
#                         image catalogue, kept in the cache below)
#   make bench QUICK=1    short versions, 1 run each (under a minute once
#                         the cache holds the generated photos)
#
# Prints one table (median, min-max, ratio to each reference computed run
# by run, target met or missed) and a machine summary, and writes the same
# as JSON to tests/bench/results/ (git ignores it), with the logs.
#
# Environment: BENCH_RUNS (runs per benchmark), BENCH_ONLY (space-separated
# subset of: ingest upload previews search licences startup),
# STOCKROOM_BENCH_CACHE (generated photos and catalogues; default
# /tmp/stockroom-bench-cache; delete it to start afresh).
#
# Everything it starts (servers, nginx) it stops by pid; generated files
# live in a temporary folder removed at exit, or in the cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

QUICK=${QUICK:-0}
case "$QUICK" in 0 | "" | no | false) QUICK=0 ;; *) QUICK=1 ;; esac
if [ "$QUICK" = 1 ]; then RUNS=${BENCH_RUNS:-1}; else RUNS=${BENCH_RUNS:-5}; fi
ONLY=${BENCH_ONLY:-ingest upload previews search licences startup}
NPROC=$(nproc)
BIN=$ROOT/build/bench
SRC=$ROOT/tests/bench
CACHE=${STOCKROOM_BENCH_CACHE:-${TMPDIR:-/tmp}/stockroom-bench-cache}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$SRC/results/$STAMP
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stockroom-bench.XXXXXX")
SAMPLES=$OUT/samples.tsv
LOGS=$OUT/logs
T_START=$(date +%s)
mkdir -p "$OUT" "$LOGS" "$CACHE"
: >"$SAMPLES"

# ---- processes we start, stopped by pid ----------------------------------

STARTED=()
stop_pid() {
    local pid=$1 p keep=()
    for p in "${STARTED[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    STARTED=("${keep[@]}")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '[bench %3ds] %s\n' $(($(date +%s) - T_START)) "$*" >&2; }
# The value of key=... in a line of key=value pairs.
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
# rec KEY VALUE: one sample of the current run.
rec() { printf '%s\t%s\t%s\n' "$1" "$RUN" "$2" >>"$SAMPLES"; }
skip() { printf 'SKIP\t%s\t%s\n' "$1" "$2" >>"$SAMPLES"; say "$1: $2"; }
calc() { awk "BEGIN { printf \"%.4f\", $1 }"; }

# ---- dependencies and build ----------------------------------------------

say "checking dependencies (scripts/deps.sh bench)"
scripts/deps.sh bench
if [ ! -d "$SRC/node_modules/sharp" ]; then
    say "installing sharp into tests/bench/node_modules"
    (cd "$SRC" && npm install --no-audit --no-fund --loglevel=error)
fi

say "building the benchmark programs into build/bench"
mkdir -p "$BIN"
CF="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -pthread -I$SRC"
build() { # OUT SRC... -- EXTRA...
    local out=$1; shift
    gcc $CF "$@" -o "$BIN/$out"
}
build par "$SRC/par.c"
build ingest -Iimaging -Iserver $(pkg-config --cflags vips libcrypto) \
    "$SRC/ingest.c" build/server/blob.o build/server/blob_file.o \
    build/server/blob_s3.o build/server/blobcache.o build/server/s3.o \
    build/server/log.o build/libimaging.a \
    $(pkg-config --libs vips libcrypto libcurl libsodium) -lm
build vipsref $(pkg-config --cflags vips) "$SRC/vipsref.c" \
    $(pkg-config --libs vips) -lm
build client $(pkg-config --cflags libcurl jansson) "$SRC/client.c" \
    $(pkg-config --libs libcurl jansson)
build searchdb -Idb $(pkg-config --cflags sqlite3) "$SRC/searchdb.c" \
    build/libdb.a $(pkg-config --libs sqlite3) -lm
build rawcommit $(pkg-config --cflags sqlite3) "$SRC/rawcommit.c" \
    $(pkg-config --libs sqlite3)
build startup "$SRC/startup.c"
HAVE_GEN=0
if [ -f scripts/gen-catalogue.c ]; then
    # Built here with the warnings of make, but without -Werror: it is
    # someone else's tool.
    gcc -std=c11 -D_GNU_SOURCE -O2 -g -Idb $(pkg-config --cflags sqlite3) \
        scripts/gen-catalogue.c build/libdb.a $(pkg-config --libs sqlite3) \
        -lm -o "$BIN/gen-catalogue" && HAVE_GEN=1
fi
CLIENT=$BIN/client
# One server binary for the whole run, even if a make elsewhere in the tree
# rebuilds build/ meanwhile (the catalogue's schema must match searchdb's).
cp build/stockroom "$WORK/stockroom"
STOCKROOM=$WORK/stockroom

# ---- the machine -----------------------------------------------------------

SHARP_VER=$(cd "$SRC" && node -e 'const s=require("sharp");console.log(require("sharp/package.json").version+" "+s.versions.vips)')
SHARP_V=${SHARP_VER% *}
SHARP_VIPS=${SHARP_VER#* }
MAGICK_V=$(/usr/bin/convert -version | sed -n 's/^Version: ImageMagick \([^ ]*\).*/\1/p')
NGINX_V=$(nginx -v 2>&1 | sed 's/.*nginx\///')
VIPS_V=$(pkg-config --modversion vips)
machine=(
    "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    "cores=$NPROC"
    "memory_mb=$(awk '/MemTotal/ {printf "%d", $2/1024}' /proc/meminfo)"
    "kernel=$(uname -r)"
    "disk=$(df -T "$WORK" | awk 'NR==2 {print $2" on "$1}')"
    "libvips=$VIPS_V"
    "sqlite=$(pkg-config --modversion sqlite3)"
    "libmicrohttpd=$(pkg-config --modversion libmicrohttpd)"
    "libcurl=$(pkg-config --modversion libcurl)"
    "sharp=$SHARP_V (own prebuilt libvips $SHARP_VIPS)"
    "imagemagick=$MAGICK_V"
    "nginx=$NGINX_V"
    "wrk=$(wrk --version 2>&1 | sed -n 's/^wrk \([^ ]*\).*/\1/p')"
    "node=$(node --version)"
    "stockroom=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- 2>/dev/null || echo '+uncommitted')"
    "mode=$([ "$QUICK" = 1 ] && echo quick || echo full), $RUNS run(s) per benchmark"
)

# ---- a server of our own ----------------------------------------------------

# start_server DATA LOG [FLAGS...]: sets SRV_PID and SRV_URL.
start_server() {
    local data=$1 log=$2 port=$WORK/port.$$.$RANDOM
    shift 2
    mkdir -p "$data"
    "$STOCKROOM" serve --listen 127.0.0.1:0 --port-file "$port" \
        --data "$data" "$@" >"$log" 2>&1 &
    SRV_PID=$!
    STARTED+=("$SRV_PID")
    for _ in $(seq 300); do [ -s "$port" ] && break; sleep 0.05; done
    if [ ! -s "$port" ]; then
        say "the server did not start: $(tail -3 "$log")"
        return 1
    fi
    SRV_URL=http://127.0.0.1:$(cat "$port")
}
stop_server() { stop_pid "$SRV_PID"; }
hwm_mb() { awk '/^VmHWM:/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# The S3 stand-in of the tests (s3rver behind the signature-checking
# front), on loopback; every S3 server of the run gets a bucket of its own.
S3_UP=0
S3_SEQ=0
s3_up() {
    [ "$S3_UP" = 1 ] && return 0
    [ -d tests/services/s3/node_modules/s3rver ] ||
        (cd tests/services/s3 && npm ci --no-audit --no-fund --loglevel=error)
    node tests/services/s3/stand.js --dir "$WORK/s3" \
        --port-file "$WORK/s3.ports" >"$LOGS/s3-stand.log" 2>&1 &
    S3_PID=$!
    STARTED+=("$S3_PID")
    for _ in $(seq 200); do [ -s "$WORK/s3.ports" ] && break; sleep 0.05; done
    [ -s "$WORK/s3.ports" ] || { say "the S3 stand-in did not start"; return 1; }
    read -r S3_PORT S3_CONTROL <"$WORK/s3.ports"
    export STOCKROOM_S3_ACCESS_KEY_ID=stockroom-test-key
    export STOCKROOM_S3_SECRET_ACCESS_KEY=stockroom-test-secret-0123456789
    S3_UP=1
}
# s3_flags: a fresh bucket; the serve flags into S3_FLAGS.
s3_flags() {
    s3_up || return 1
    S3_SEQ=$((S3_SEQ + 1))
    curl -sf -X POST "http://127.0.0.1:$S3_CONTROL/bucket?name=bench-$S3_SEQ" \
        >/dev/null || return 1
    S3_FLAGS=(--blob-store s3 --s3-path-style --s3-bucket "bench-$S3_SEQ"
              --s3-endpoint "http://127.0.0.1:$S3_PORT")
}

PW=bench-password-long
# The photos: generated once into the cache with the vips CLI (never
# committed): noise over an upscaled real photo, so they decode like
# camera files rather than flat colour.
PHOTOS=$CACHE/photos-v1
make_photo() { # NAME W H [jpegsave options]
    local name=$1 w=$2 h=$3 t=$WORK/gen
    shift 3
    [ -s "$PHOTOS/$name" ] && return 0
    say "generating $name ($w x $h)"
    mkdir -p "$t" "$PHOTOS"
    vips thumbnail "$REAL/01-mate-Elephants_5640x3172.jpg" "$t/base.v" "$w" \
        --height "$h" --size force
    vips gaussnoise "$t/noise.v" "$w" "$h" --mean 128 --sigma 10
    vips cast "$t/noise.v" "$t/noise8.v" uchar
    vips add "$t/base.v" "$t/noise8.v" "$t/sum.v"
    vips linear --uchar -- "$t/sum.v" "$t/out.v" 1 -128
    vips jpegsave "$t/out.v" "$PHOTOS/$name.tmp" --Q 90 "$@"
    mv "$PHOTOS/$name.tmp" "$PHOTOS/$name"
    rm -rf "$t"
}
REAL=${STOCKROOM_CORPUS:-$ROOT/../shared/corpus}/real
make_photo gen-12mp.jpg 4000 3000
make_photo gen-24mp.jpg 6000 4000
make_photo gen-24mp-progressive.jpg 6000 4000 --interlace
make_photo gen-100mp.jpg 12000 8333

# ---- 1. ingest -------------------------------------------------------------

bench_ingest() {
    local files=() f w h n passes out wall
    # The real JPEG photos of at least 1 MP (every tool reads JPEG; sharp's
    # prebuilt libvips has no HEIC), then the generated ones. QUICK: a few.
    if [ "$QUICK" = 1 ]; then
        files=("$REAL"/04-lomiri-Dragonfly_by_Bolly.jpg
               "$REAL"/15-plasma-Path-2560x1600.jpg "$PHOTOS"/gen-24mp.jpg)
    else
        for f in "$REAL"/*.jpg "$REAL"/*.JPG "$REAL"/*.jpeg; do
            [ -f "$f" ] || continue
            w=$(vipsheader -f width "$f" 2>/dev/null) || continue
            h=$(vipsheader -f height "$f" 2>/dev/null) || continue
            [ $((w * h)) -ge 1000000 ] && files+=("$f")
        done
        files+=("$PHOTOS"/gen-24mp.jpg "$PHOTOS"/gen-24mp-progressive.jpg
                "$PHOTOS"/gen-100mp.jpg)
    fi
    n=${#files[@]}
    passes=$NPROC      # each process sees each file once
    printf '%s\n' "${files[@]}" >"$LOGS/ingest-files.txt"
    say "ingest: $n photos x $passes passes, $NPROC processes per tool"
    # ImageMagick: one convert per photo and output pair, largest first,
    # single-threaded like the others (parallel across photos).
    mkdir -p "$WORK/magick"
    : >"$WORK/magick.jobs"
    for p in $(seq "$passes"); do
        while read -r f; do
            printf '%s\n' "/usr/bin/convert	-define	jpeg:size=1600x1600	$f	-auto-orient	-colorspace	sRGB	-strip	-resize	800x800>	(	+clone	-resize	240x240>	-quality	80	-write	$WORK/magick/t{k}.jpg	+delete	)	(	-size	420x120	xc:none	-font	DejaVu-Sans-Bold	-pointsize	25	-fill	rgba(255,255,255,0.55)	-gravity	center	-annotate	0	Stockroom · Bench Contributor	-background	none	-rotate	-30	-write	mpr:wm	+delete	)	(	+clone	-fill	mpr:wm	-draw	color 0,0 reset	)	-composite	-quality	82	$WORK/magick/p{k}.jpg"
        done < <(ls -S "${files[@]}") >>"$WORK/magick.jobs"
    done
    for RUN in $(seq "$RUNS"); do
        out=$("$BIN/par" -j "$NPROC" -- "$BIN/ingest" --shard '{k}/{n}' \
              --passes "$passes" "${files[@]}" 2>>"$LOGS/ingest.log") ||
            { say "ingest: Stockroom failed (logs/ingest.log)"; return 1; }
        rec ingest.stockroom.ips "$(calc "$n * $passes / $(kv wall_s "$out")")"
        rec ingest.stockroom.rss "$(calc "$(kv max_rss_kb "$out") / 1024")"
        out=$("$BIN/par" -j "$NPROC" -- "$BIN/vipsref" --shard '{k}/{n}' \
              --passes "$passes" "${files[@]}" 2>>"$LOGS/ingest.log") ||
            { say "ingest: vipsref failed"; return 1; }
        rec ingest.vips.ips "$(calc "$n * $passes / $(kv wall_s "$out")")"
        rec ingest.vips.rss "$(calc "$(kv max_rss_kb "$out") / 1024")"
        out=$("$BIN/par" -j "$NPROC" -- node "$SRC/ingest-sharp.js" \
              --shard '{k}/{n}' --passes "$passes" "${files[@]}" \
              2>>"$LOGS/ingest.log") || { say "ingest: sharp failed"; return 1; }
        rec ingest.sharp.ips "$(calc "$n * $passes / $(kv wall_s "$out")")"
        rec ingest.sharp.rss "$(calc "$(kv max_rss_kb "$out") / 1024")"
        out=$(MAGICK_THREAD_LIMIT=1 "$BIN/par" -j "$NPROC" \
              -l "$WORK/magick.jobs" 2>>"$LOGS/ingest.log") ||
            { say "ingest: ImageMagick failed"; return 1; }
        rec ingest.magick.ips "$(calc "$n * $passes / $(kv wall_s "$out")")"
        rec ingest.magick.rss "$(calc "$(kv max_rss_kb "$out") / 1024")"
        # One 100 MP photo alone: its peak memory.
        out=$("$BIN/par" -j 1 -- "$BIN/ingest" "$PHOTOS/gen-100mp.jpg" \
              2>>"$LOGS/ingest.log") || { say "ingest: 100 MP failed"; return 1; }
        rec ingest.stockroom.rss100 "$(calc "$(kv max_rss_kb "$out") / 1024")"
        rec ingest.stockroom.s100 "$(kv wall_s "$out")"
        say "ingest run $RUN/$RUNS done"
    done
}

# ---- 2. uploads over HTTP --------------------------------------------------

bench_upload() {
    local count=24 conc=4 out tok data photo=$PHOTOS/gen-12mp.jpg
    [ "$QUICK" = 1 ] && count=8
    say "upload: $count x 12 MP, $conc at a time, fresh server each run"
    for RUN in $(seq "$RUNS"); do
        data=$WORK/upload-$RUN
        start_server "$data" "$LOGS/upload-server-$RUN.log" || return 1
        tok=$("$CLIENT" "$SRV_URL" signup "up$RUN@bench.test" "$PW") || return 1
        out=$("$CLIENT" "$SRV_URL" uploads "$tok" "$photo" "$count" "$conc" \
              "r$RUN-$$" 2>>"$LOGS/upload.log") ||
            { say "upload failed: $out"; stop_server; return 1; }
        echo "$out" >>"$LOGS/upload.log"
        rec upload.ips "$(kv images_per_s "$out")"
        rec upload.hwm "$(hwm_mb "$SRV_PID")"
        stop_server
        rm -rf "$data"
        # The same uploads with every blob in s3rver on this machine.
        s3_flags || return 1
        start_server "$data" "$LOGS/upload-s3-server-$RUN.log" \
            "${S3_FLAGS[@]}" || return 1
        tok=$("$CLIENT" "$SRV_URL" signup "up$RUN@bench.test" "$PW") || return 1
        out=$("$CLIENT" "$SRV_URL" uploads "$tok" "$photo" "$count" "$conc" \
              "s$RUN-$$" 2>>"$LOGS/upload.log") ||
            { say "upload to S3 failed: $out"; stop_server; return 1; }
        echo "s3 $out" >>"$LOGS/upload.log"
        rec upload.s3.ips "$(kv images_per_s "$out")"
        stop_server
        rm -rf "$data"
        # The same photos through img_analyse + img_preview directly.
        out=$("$BIN/par" -j "$NPROC" -- "$BIN/ingest" --shard '{k}/{n}' \
              --passes "$count" "$photo" 2>>"$LOGS/upload.log") || return 1
        rec upload.direct.ips "$(calc "$count / $(kv wall_s "$out")")"
        say "upload run $RUN/$RUNS done"
    done
}

# ---- the shared store for previews and licences -----------------------------

STORE_UP=0
store_up() {
    [ "$STORE_UP" = 1 ] && return 0
    local tok
    start_server "$WORK/store" "$LOGS/store-server.log" || return 1
    STORE_URL=$SRV_URL
    STORE_PID=$SRV_PID
    tok=$("$CLIENT" "$STORE_URL" signup contributor@bench.test "$PW") || return 1
    IMAGE_ID=$("$CLIENT" "$STORE_URL" upload "$tok" "$PHOTOS/gen-12mp.jpg") ||
        return 1
    "$CLIENT" "$STORE_URL" wait "$tok" 120 >/dev/null || return 1
    printf '%s\n' "$PW" | "$STOCKROOM" user add --data "$WORK/store" \
        --email admin@bench.test --role admin >/dev/null || return 1
    ADMIN_TOKEN=$("$CLIENT" "$STORE_URL" login admin@bench.test "$PW") || return 1
    "$CLIENT" "$STORE_URL" approve "$ADMIN_TOKEN" "$IMAGE_ID" || return 1
    STORE_UP=1
}

# ---- 3. previews -------------------------------------------------------------

free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
# wrk_run URL SECONDS: "rps=... p99_ms=..."
wrk_run() {
    local out rps p99 unit
    out=$(wrk -t "$NPROC" -c 64 -d "${2}s" --latency "$1" 2>&1) || true
    echo "$out" >>"$LOGS/previews.log"
    if grep -q "Non-2xx" <<<"$out"; then
        say "previews: errors from $1"
        return 1
    fi
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    [ -n "$rps" ] || { say "previews: no answer from $1"; return 1; }
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    unit=$(sed 's/[0-9.]*//' <<<"$p99")
    p99=$(sed 's/[a-z]*$//' <<<"$p99")
    case "$unit" in
        us) p99=$(calc "$p99 / 1000") ;; s) p99=$(calc "$p99 * 1000") ;;
    esac
    echo "rps=$rps p99_ms=$p99"
}
nginx_conf() { # DIR PORT
    local conf=$1 port=$2
    cat >"$conf/nginx.conf" <<EOF
# Comparable to Stockroom: one file from disk with sendfile, keep-alive,
# and one access-log line per request written to a file, as Stockroom
# writes its own (unbuffered, like Stockroom's standard error).
worker_processes $NPROC;
daemon off;
pid $conf/nginx.pid;
error_log $conf/error.log warn;
events { worker_connections 1024; }
http {
    access_log $conf/access.log;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path $conf/tmp/body;
    proxy_temp_path $conf/tmp/proxy;
    fastcgi_temp_path $conf/tmp/fastcgi;
    uwsgi_temp_path $conf/tmp/uwsgi;
    scgi_temp_path $conf/tmp/scgi;
    types { image/jpeg jpg; }
    server {
        listen 127.0.0.1:$port;
        root $conf/www;
        location / {
            add_header Cache-Control "public, max-age=31536000, immutable";
        }
    }
}
EOF
}
bench_previews() {
    local secs=6 port conf=$WORK/nginx out ngx attempt
    [ "$QUICK" = 1 ] && secs=2
    store_up || return 1
    mkdir -p "$conf/www/images/$IMAGE_ID" "$conf/tmp"
    # nginx workers run as another user when started as root.
    chmod 711 "$WORK"
    "$CLIENT" "$STORE_URL" get "/images/$IMAGE_ID/preview.jpg" \
        "$conf/www/images/$IMAGE_ID/preview.jpg" || return 1
    for attempt in 1 2 3; do
        port=$(free_port)
        nginx_conf "$conf" "$port"
        nginx -p "$conf" -c "$conf/nginx.conf" 2>>"$LOGS/previews.log" &
        ngx=$!
        STARTED+=("$ngx")
        for _ in $(seq 100); do
            kill -0 "$ngx" 2>/dev/null || break
            "$CLIENT" "http://127.0.0.1:$port" get \
                "/images/$IMAGE_ID/preview.jpg" /dev/null 2>/dev/null &&
                break 2
            sleep 0.05
        done
        say "previews: nginx did not answer on port $port (attempt $attempt)"
        cat "$conf/error.log" >>"$LOGS/previews.log" 2>/dev/null || true
        stop_pid "$ngx"
        ngx=
    done
    [ -n "$ngx" ] || return 1
    say "previews: wrk ${secs}s x 64 connections, Stockroom then nginx $NGINX_V"
    wrk_run "$STORE_URL/images/$IMAGE_ID/preview.jpg" 1 >/dev/null || return 1
    wrk_run "http://127.0.0.1:$port/images/$IMAGE_ID/preview.jpg" 1 >/dev/null ||
        return 1
    for RUN in $(seq "$RUNS"); do
        out=$(wrk_run "$STORE_URL/images/$IMAGE_ID/preview.jpg" "$secs") ||
            return 1
        rec previews.stockroom.rps "$(kv rps "$out")"
        rec previews.stockroom.p99 "$(kv p99_ms "$out")"
        out=$(wrk_run "http://127.0.0.1:$port/images/$IMAGE_ID/preview.jpg" \
              "$secs") || return 1
        rec previews.nginx.rps "$(kv rps "$out")"
        rec previews.nginx.p99 "$(kv p99_ms "$out")"
        say "previews run $RUN/$RUNS done"
    done
    stop_pid "$ngx"
    bench_previews_s3 "$secs"
}

# An approved photo on a server whose blobs are in S3: IDS gets its id.
s3_store() { # DATA LOG PHOTO... -- FLAGS...
    local data=$1 log=$2 tok admin id photos=()
    shift 2
    while [ "$1" != -- ]; do photos+=("$1"); shift; done
    shift
    s3_flags || return 1
    start_server "$data" "$log" "${S3_FLAGS[@]}" "$@" || return 1
    tok=$("$CLIENT" "$SRV_URL" signup "s3-$S3_SEQ@bench.test" "$PW") || return 1
    IDS=()
    for p in "${photos[@]}"; do
        id=$("$CLIENT" "$SRV_URL" upload "$tok" "$p") || return 1
        IDS+=("$id")
    done
    "$CLIENT" "$SRV_URL" wait "$tok" 120 >/dev/null || return 1
    printf '%s\n' "$PW" | "$STOCKROOM" user add --data "$data" \
        --email admin@bench.test --role admin >/dev/null || return 1
    admin=$("$CLIENT" "$SRV_URL" login admin@bench.test "$PW") || return 1
    for id in "${IDS[@]}"; do
        "$CLIENT" "$SRV_URL" approve "$admin" "$id" || return 1
    done
}

# Previews with the S3 store: from the cache (as the file store serves
# them), and cold: two photos, a cache too small for both and no
# open-file cache, so every request fetches from s3rver.
bench_previews_s3() {
    local secs=$1 out url i n=200 lat
    [ "$QUICK" = 1 ] && n=40
    s3_store "$WORK/s3-previews" "$LOGS/previews-s3-server.log" \
        "$PHOTOS/gen-12mp.jpg" -- || return 1
    url="$SRV_URL/images/${IDS[0]}/preview.jpg"
    say "previews: wrk ${secs}s x 64 connections, S3 store (cached)"
    wrk_run "$url" 1 >/dev/null || return 1
    for RUN in $(seq "$RUNS"); do
        out=$(wrk_run "$url" "$secs") || return 1
        rec previews.s3.rps "$(kv rps "$out")"
    done
    stop_server
    s3_store "$WORK/s3-cold" "$LOGS/previews-cold-server.log" \
        "$PHOTOS/gen-12mp.jpg" "$PHOTOS/gen-24mp.jpg" -- \
        --cache-mb 0 --rendition-cache 0 || return 1
    say "previews: $n cold requests (cache miss each), one at a time"
    for RUN in $(seq "$RUNS"); do
        lat=$WORK/cold.txt
        : >"$lat"
        for i in $(seq "$n"); do
            curl -sf -o /dev/null -w '%{time_total}\n' \
                "$SRV_URL/images/${IDS[$((i % 2))]}/preview.jpg" >>"$lat" ||
                { say "cold preview failed"; stop_server; return 1; }
        done
        rec previews.cold.p50 "$(sort -n "$lat" | awk '{a[NR]=$1} END {printf "%.2f", a[int(NR*0.5)+1]*1000}')"
        rec previews.cold.p99 "$(sort -n "$lat" | awk '{a[NR]=$1} END {i=int(NR*0.99)+1; if (i>NR) i=NR; printf "%.2f", a[i]*1000}')"
    done
    stop_server
}

# ---- 4. search and 6. start-up, on the big catalogue --------------------------

CATALOGUE=
catalogue() {
    local count=1000000 key cat
    [ -n "$CATALOGUE" ] && return 0
    if [ "$HAVE_GEN" != 1 ]; then
        return 1
    fi
    # The cache is keyed by the generator and the schema it fills.
    "$BIN/gen-catalogue" --data "$WORK/schema" --count 1 >/dev/null 2>&1 ||
        return 1
    key=$( (cat scripts/gen-catalogue.c
            sqlite3 "$WORK/schema/stockroom.db" .schema) | sha256sum | cut -c1-12)
    if [ "$QUICK" = 1 ] && [ ! -f "$CACHE/catalogue-$count-$key/.complete" ]; then
        count=50000
        say "QUICK: no cached 1 M catalogue, using $count images"
    fi
    cat=$CACHE/catalogue-$count-$key
    if [ ! -f "$cat/.complete" ]; then
        rm -rf "$CACHE"/catalogue-"$count"-*
        say "generating a catalogue of $count images (once; cached in $cat)"
        "$BIN/gen-catalogue" --data "$cat" --count "$count" --seed 1 \
            2>"$LOGS/gen-catalogue.log" >&2 || return 1
        touch "$cat/.complete"
    fi
    CATALOGUE=$cat
    CATALOGUE_COUNT=$count
}

bench_search() {
    local reps=4 out
    [ "$QUICK" = 1 ] && reps=1
    if ! catalogue; then
        skip search "skipped: generator missing (scripts/gen-catalogue.c)"
        return 0
    fi
    printf 'search: %d images\n' "$CATALOGUE_COUNT" >>"$LOGS/search.log"
    start_server "$CATALOGUE" "$LOGS/search-server.log" || return 1
    say "search: $(grep -c '^[^#]' "$SRC/queries.txt") queries x $reps, over HTTP then cat_search direct, $CATALOGUE_COUNT images"
    for RUN in $(seq "$RUNS"); do
        out=$("$CLIENT" "$SRV_URL" search "$SRC/queries.txt" "$reps" \
              2>>"$LOGS/search.log") || { say "search over HTTP failed"; stop_server; return 1; }
        echo "http $out" >>"$LOGS/search.log"
        rec search.http.p50 "$(kv p50_ms "$out")"
        rec search.http.p99 "$(kv p99_ms "$out")"
        rec search.http.max "$(kv max_ms "$out")"
        out=$("$BIN/searchdb" "$CATALOGUE/stockroom.db" "$SRC/queries.txt" \
              "$reps" 2>>"$LOGS/search.log") || { say "searchdb failed"; stop_server; return 1; }
        echo "direct $out" >>"$LOGS/search.log"
        rec search.direct.p50 "$(kv p50_ms "$out")"
        rec search.direct.p99 "$(kv p99_ms "$out")"
        rec search.direct.max "$(kv max_ms "$out")"
        # Filter-only searches (no text): each filter and sort, and deep
        # cursor paging, straight to cat_search.
        out=$("$BIN/searchdb" "$CATALOGUE/stockroom.db" "$SRC/filters.txt" \
              "$reps" 2>>"$LOGS/search.log") || { say "searchdb filters failed"; stop_server; return 1; }
        echo "filters $out" >>"$LOGS/search.log"
        rec search.filters.p50 "$(kv p50_ms "$out")"
        rec search.filters.p99 "$(kv p99_ms "$out")"
        rec search.filters.max "$(kv max_ms "$out")"
        say "search run $RUN/$RUNS done"
    done
    stop_server
}

bench_startup() {
    local out
    if ! catalogue; then
        skip startup "skipped: generator missing (scripts/gen-catalogue.c)"
        return 0
    fi
    say "startup: stockroom serve on $CATALOGUE_COUNT images until /healthz answers"
    for RUN in $(seq "$RUNS"); do
        out=$("$BIN/startup" "$WORK/startup.port" 1000 -- "$STOCKROOM" serve \
              --listen 127.0.0.1:0 --port-file "$WORK/startup.port" \
              --data "$CATALOGUE" 2>>"$LOGS/startup.log") ||
            { say "startup failed"; return 1; }
        echo "$out" >>"$LOGS/startup.log"
        rec startup.ready "$(kv ready_ms "$out")"
        rec startup.rss "$(calc "$(kv idle_rss_kb "$out") / 1024")"
    done
}

# ---- 5. licences ---------------------------------------------------------------

bench_licences() {
    local conc=8 per=150 buyers=4 packs out i tok toks=()
    [ "$QUICK" = 1 ] && per=40
    store_up || return 1
    # Credits for every run: each licence of size S costs one.
    packs=$(( (RUNS * conc / buyers * per + 99) / 100 + 1 ))
    say "licences: $conc threads x $per, $buyers buyers with $packs packs of 100 each"
    for i in $(seq "$buyers"); do
        tok=$("$CLIENT" "$STORE_URL" signup "buyer$i@bench.test" "$PW") || return 1
        toks+=("$tok")
        "$CLIENT" "$STORE_URL" buy "${toks[-1]}" "$packs" "b$i-$$" || return 1
    done
    for RUN in $(seq "$RUNS"); do
        out=$("$CLIENT" "$STORE_URL" licences "$IMAGE_ID" "$conc" "$per" \
              "r$RUN-$$" "${toks[@]}" 2>>"$LOGS/licences.log") ||
            { say "licences failed: $out"; return 1; }
        echo "http $out" >>"$LOGS/licences.log"
        rec licences.http.ops "$(kv ops_per_s "$out")"
        rec licences.http.p99 "$(kv p99_ms "$out")"
        out=$("$BIN/rawcommit" "$WORK/raw.db" "$conc" "$per" \
              2>>"$LOGS/licences.log") || { say "rawcommit failed"; return 1; }
        echo "raw $out" >>"$LOGS/licences.log"
        rec licences.raw.ops "$(kv ops_per_s "$out")"
        rec licences.raw.p99 "$(kv p99_ms "$out")"
        say "licences run $RUN/$RUNS done"
    done
}

# ---- run them ----------------------------------------------------------------

RUN=0
for b in $ONLY; do
    t0=$(date +%s)
    if ! "bench_$b"; then
        skip "$b" "failed: see $LOGS"
    fi
    say "$b took $(($(date +%s) - t0)) s"
done
[ "$STORE_UP" = 1 ] && stop_pid "$STORE_PID"

# ---- the table -----------------------------------------------------------------

# section | metric | Stockroom key | reference | reference key | target
# Targets: "ratio>= X" (median of Stockroom / reference per run),
# "ratio<= X", "<= X" or "< X" (Stockroom's median itself); "" none.
cat >"$OUT/rows.txt" <<EOF
ingest|photos/s, $NPROC procs|ingest.stockroom.ips|libvips $VIPS_V, plain C|ingest.vips.ips|ratio>= 0.9
ingest|photos/s, $NPROC procs|ingest.stockroom.ips|sharp $SHARP_V (libvips $SHARP_VIPS)|ingest.sharp.ips|ratio>= 1.2
ingest|photos/s, $NPROC procs|ingest.stockroom.ips|ImageMagick $MAGICK_V convert|ingest.magick.ips|ratio>= 4
ingest|peak RSS/proc, MB|ingest.stockroom.rss|libvips $VIPS_V, plain C|ingest.vips.rss|
ingest|peak RSS/proc, MB|ingest.stockroom.rss|sharp $SHARP_V (libvips $SHARP_VIPS)|ingest.sharp.rss|ratio<= 0.5
ingest|peak RSS/proc, MB|ingest.stockroom.rss|ImageMagick $MAGICK_V convert|ingest.magick.rss|
ingest 100 MP|peak RSS, MB|ingest.stockroom.rss100|||< 300
ingest 100 MP|seconds|ingest.stockroom.s100|||
upload 12 MP|photos/s, HTTP|upload.ips|same photos, ingest.c direct|upload.direct.ips|
upload 12 MP|server VmHWM, MB|upload.hwm|||
upload 12 MP|photos/s, S3 store (s3rver)|upload.s3.ips|same run, file store|upload.ips|ratio>= 0.8
previews|requests/s|previews.stockroom.rps|nginx $NGINX_V, sendfile|previews.nginx.rps|ratio>= 0.9
previews|p99 latency, ms|previews.stockroom.p99|nginx $NGINX_V, sendfile|previews.nginx.p99|
previews|requests/s, S3 store (cached)|previews.s3.rps|file store|previews.stockroom.rps|ratio>= 0.95
previews cold|p50, ms, S3 cache miss|previews.cold.p50|||
previews cold|p99, ms, S3 cache miss|previews.cold.p99|||
search|p50, ms|search.http.p50|cat_search direct|search.direct.p50|
search|p99, ms|search.http.p99|cat_search direct|search.direct.p99|<= 20
search|max, ms|search.http.max|cat_search direct|search.direct.max|
search, no text|p50, ms|search.filters.p50|||
search, no text|p99, ms|search.filters.p99|||<= 20
search, no text|max, ms|search.filters.max|||
licences|licences/s|licences.http.ops|raw SQLite durable commits|licences.raw.ops|ratio>= 0.8
licences|p99 latency, ms|licences.http.p99|raw SQLite durable commits|licences.raw.p99|
start-up|to first /healthz, ms|startup.ready|||
idle|VmRSS, MB|startup.rss|||
EOF
printf '%s\n' "${machine[@]}" >"$OUT/machine.txt"

awk -v json="$OUT/bench.json" -v stamp="$STAMP" -v quick="$QUICK" \
    -v catcount="${CATALOGUE_COUNT:-0}" -F'\t' '
function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
function stats(key, out,   n, r, a) {
    n = 0
    for (r = 1; r <= maxrun; r++)
        if ((key, r) in v) a[++n] = v[key, r]
    out["n"] = n
    if (!n) return 0
    out["min"] = a[1]; out["max"] = a[1]
    for (r = 1; r <= n; r++) {
        if (a[r] < out["min"]) out["min"] = a[r]
        if (a[r] > out["max"]) out["max"] = a[r]
    }
    out["med"] = median(a, n)
    return n
}
function ratios(sk, rk, out,   n, r, a) {
    n = 0
    for (r = 1; r <= maxrun; r++)
        if ((sk, r) in v && (rk, r) in v && v[rk, r] + 0 != 0)
            a[++n] = v[sk, r] / v[rk, r]
    out["n"] = n
    if (!n) return 0
    out["min"] = a[1]; out["max"] = a[1]
    for (r = 1; r <= n; r++) {
        if (a[r] < out["min"]) out["min"] = a[r]
        if (a[r] > out["max"]) out["max"] = a[r]
    }
    out["med"] = median(a, n)
    return n
}
function fmt(x) {
    if (x >= 1000) return sprintf("%.0f", x)
    if (x >= 100) return sprintf("%.1f", x)
    if (x >= 10) return sprintf("%.2f", x)
    return sprintf("%.3g", x)
}
function cell(s) { return s["n"] ? fmt(s["med"]) " (" fmt(s["min"]) "-" fmt(s["max"]) ")" : "-" }
function jnum(s) { return s["n"] ? sprintf("{\"median\": %s, \"min\": %s, \"max\": %s, \"runs\": %d}", s["med"], s["min"], s["max"], s["n"]) : "null" }
function jstr(x) { gsub(/\\/, "\\\\", x); gsub(/"/, "\\\"", x); return "\"" x "\"" }
FILENAME ~ /samples/ {
    if ($1 == "SKIP") { skipped[$2] = $3; order[++nskip] = $2; next }
    v[$1, $2] = $3; if ($2 > maxrun) maxrun = $2; next
}
FILENAME ~ /machine/ { mach[++nm] = $0; next }
{
    split($0, f, "|")
    sec = f[1]; met = f[2]; sk = f[3]; rl = f[4]; rk = f[5]; tg = f[6]
    delete S; delete R; delete Q
    stats(sk, S); if (rk != "") stats(rk, R); if (rk != "") ratios(sk, rk, Q)
    # A benchmark that did not run (BENCH_ONLY, or skipped) has no row.
    if (!S["n"]) next
    verdict = ""
    if (tg != "") {
        split(tg, t, " ")
        if (t[1] ~ /^ratio/) { x = Q["n"] ? Q["med"] : ""; }
        else { x = S["n"] ? S["med"] : "" }
        if (x == "") verdict = "NOT RUN"
        else if (t[1] ~ />=$/) verdict = (x >= t[2]) ? "met" : "MISSED"
        else if (t[1] ~ /<=$/) verdict = (x <= t[2]) ? "met" : "MISSED"
        else if (t[1] ~ /<$/) verdict = (x < t[2]) ? "met" : "MISSED"
    }
    label = (sec == "search" && catcount) ? sec " " (catcount >= 1000000 ? catcount/1000000 " M" : catcount/1000 " k") : sec
    if (sec == "start-up" && catcount) label = "start-up " (catcount >= 1000000 ? catcount/1000000 " M" : catcount/1000 " k")
    rows[++nr] = sprintf("%-16s %-21s %-26s %-36s %-26s %-22s %-12s %s", label, met, cell(S),
        rl == "" ? "-" : rl, rk == "" ? "-" : cell(R),
        Q["n"] ? fmt(Q["med"]) " (" fmt(Q["min"]) "-" fmt(Q["max"]) ")" : "-",
        tg == "" ? "-" : tg, verdict)
    jrows[nr] = sprintf("    {\"benchmark\": %s, \"metric\": %s, \"stockroom\": %s, \"reference\": %s, \"reference_value\": %s, \"ratio\": %s, \"target\": %s, \"verdict\": %s}",
        jstr(label), jstr(met), jnum(S), rl == "" ? "null" : jstr(rl), jnum(R), jnum(Q),
        tg == "" ? "null" : jstr(tg), verdict == "" ? "null" : jstr(verdict))
}
END {
    printf "\nStockroom benchmarks, %s: median of the runs (min-max); ratio = Stockroom / reference, run by run\n\n", stamp
    printf "%-16s %-21s %-26s %-36s %-26s %-22s %-12s %s\n", "benchmark", "metric", "Stockroom", "reference", "reference value", "ratio", "target", "verdict"
    printf "%s\n", "-------------------------------------------------------------------------------------------------------------------------------------------------------------------------------"
    for (i = 1; i <= nr; i++) print rows[i]
    for (i = 1; i <= nskip; i++) printf "%-16s %s\n", order[i], skipped[order[i]]
    printf "\nMachine\n"
    for (i = 1; i <= nm; i++) { split(mach[i], kvp, "="); k = kvp[1]; sub(/^[^=]*=/, "", mach[i]); printf "  %-14s %s\n", k, mach[i]; mk[i] = k; mv[i] = mach[i] }
    printf "{\n  \"stamp\": %s,\n  \"quick\": %s,\n  \"machine\": {\n", jstr(stamp), (quick ? "true" : "false") > json
    for (i = 1; i <= nm; i++) printf "    %s: %s%s\n", jstr(mk[i]), jstr(mv[i]), (i < nm ? "," : "") > json
    printf "  },\n  \"skipped\": {" > json
    for (i = 1; i <= nskip; i++) printf "%s%s: %s", (i > 1 ? ", " : ""), jstr(order[i]), jstr(skipped[order[i]]) > json
    printf "},\n  \"rows\": [\n" > json
    for (i = 1; i <= nr; i++) printf "%s%s\n", jrows[i], (i < nr ? "," : "") > json
    printf "  ]\n}\n" > json
}' "$SAMPLES" "$OUT/machine.txt" "$OUT/rows.txt" | tee "$OUT/table.txt"
cp "$OUT/bench.json" "$SRC/results/latest.json"
echo
echo "JSON: tests/bench/results/$STAMP/bench.json (also results/latest.json); logs in results/$STAMP/logs"
say "done"
