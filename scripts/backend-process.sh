# Shared by scripts/schemathesis.sh and scripts/redbot.sh (sourced, not run): a backend's
# release binary started on a free port with a fresh database, stopped with SIGTERM (which
# must exit 0), and a signed-up, logged-in user; and the release build before them.
# Needs ROOT, USERNAME and PASSWORD set.

# workspace_backends: the name of every `backend-<name>` entry of the workspace's `members`,
# one per line (the member line is the one place a backend is listed, as bench/build.rs reads
# it; one entry per line, as cargo writes them).
workspace_backends() {
    sed -n '/^members[[:space:]]*=[[:space:]]*\[/,/\]/s/^[[:space:]]*"backend-\([a-z0-9_-]*\)",\{0,1\}[[:space:]]*$/\1/p' \
        "$ROOT/Cargo.toml"
}

# build_backend NAME: builds the release binary (a no-op when it is up to date), unless
# SITEBENCH_NO_BUILD=1; adds the seconds it took to BUILD_TIME, which the scripts report apart.
BUILD_TIME=0
build_backend() {
    [ "${SITEBENCH_NO_BUILD:-0}" != 1 ] || return 0
    local started=$SECONDS
    (cd "$ROOT" && cargo build --quiet --release -p "backend-$1")
    BUILD_TIME=$((BUILD_TIME + SECONDS - started))
}

# start_backend NAME DIR [ARG...]: starts the binary (with the extra ARGs), sets PID and URL.
start_backend() {
    local name=$1 dir=$2 bin=$ROOT/target/release/backend-$1
    shift 2
    [ -x "$bin" ] || { echo "missing $bin (cargo build --release -p backend-$name)" >&2; return 1; }
    : >"$dir/stdout"
    "$bin" --port 0 --quiet --database "$dir/site.db" "$@" >"$dir/stdout" 2>"$dir/stderr" &
    PID=$!
    URL=
    for _ in $(seq 100); do
        URL=$(sed -n '1s#^sitebench-'"$name"' listening on \(http://[0-9.:]*\)$#\1#p' "$dir/stdout")
        [ -n "$URL" ] && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "backend-$name did not start:" >&2
    cat "$dir/stdout" "$dir/stderr" >&2
    return 1
}

stop_backend() {
    local name=$1 status=0
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "backend-$name exited with status $status after SIGTERM (expected 0)" >&2
        return 1
    fi
}

# login: signs up and logs in $USERNAME, prints the session token.
login() {
    local body="{\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}"
    curl -sS -o /dev/null -H 'Content-Type: application/json' -d "$body" "$URL/users"
    curl -sS -o /dev/null -D - -H 'Content-Type: application/json' -d "$body" "$URL/login" |
        tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: sitebench_session=\([^;]*\);.*/\1/p'
}
