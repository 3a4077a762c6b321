#!/usr/bin/env bash
# Lints the HTTP of a few pages of each backend with REDbot (PyPI `redbot`, "lint for HTTP"):
# /, /guide/, /plaintext, /json, /users/<name>, /status/404, and /me with a session cookie.
#
#   scripts/redbot.sh [backend...]      (default: every backend of the workspace)
#
# It builds each backend's release binary (a no-op when it is up to date; SITEBENCH_NO_BUILD=1
# skips it), starts it on a free port with a fresh database, signs up and logs in a user,
# runs REDbot on each page (with its own follow-up requests: conditional, ranged, gzip,
# HEAD...), and stops the backend with SIGTERM (which must exit 0).
# It exits non-zero on any error-level ("bad") note, on a warning that has no explanation
# in ACCEPTED below, or on a page REDbot could not fetch; every accepted warning is printed
# with its explanation. Eight backends take about 40 s on two cores (38 s in CI, 2026-12-03; builds excluded).
# The tool lives in its own virtual environment, target/tools/redbot-venv, made on first use
# with the pinned version below. REDbot's CLI cannot send a request header, so a small
# driver (below) calls its Python API and prints every note as "level<TAB>NAME<TAB>summary".
set -euo pipefail

REDBOT_VERSION=2.7.1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/target/tools/redbot-venv
BACKENDS=("$@")
USERNAME=redbot
PASSWORD=redbot-password-1
PAGES=(/ /guide/ /plaintext /json "/users/$USERNAME" /status/404 /me)

# Why each warning REDbot gives is acceptable, by note name, or by "PATH NOTE" for one page.
declare -A ACCEPTED=(
    ["/plaintext FRESHNESS_HEURISTIC"]="a constant body that carries no cache headers, exactly as TechEmpower's plaintext test asks; a heuristic freshness can never serve a stale answer"
    ["/json FRESHNESS_HEURISTIC"]="a constant message that carries no cache headers, exactly as TechEmpower's json test asks; a heuristic freshness can never serve a stale answer"
    ["/users/$USERNAME FRESHNESS_HEURISTIC"]="a public user record never changes once created (there is no rename nor deletion), so a heuristic freshness is harmless; Vary: Accept keeps its JSON and HTML forms apart"
)

ensure_venv() {
    if [ -x "$VENV/bin/python" ] &&
        [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("redbot"))' 2>/dev/null)" = "$REDBOT_VERSION" ]; then
        return
    fi
    echo "setting up redbot $REDBOT_VERSION in $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "redbot==$REDBOT_VERSION"
}

# redbot_notes URL [HEADER: value...]: every note REDbot has on URL, one a line.
redbot_notes() {
    "$VENV/bin/python" - "$@" <<'PY'
import sys
from configparser import ConfigParser

import thor
from redbot.resource import HttpResource

config = ConfigParser()
config.read_dict({"redbot": {"enable_local_access": "True"}})
resource = HttpResource(config["redbot"])
resource.set_request(sys.argv[1], headers=[tuple(h.split(": ", 1)) for h in sys.argv[2:]])


@thor.events.on(resource)
def check_done() -> None:
    thor.stop()


resource.check()
thor.run()
if resource.fetch_error is not None:
    error = resource.fetch_error
    print(f"bad\tFETCH_ERROR\t{error.desc} {error.detail or ''}")
print(f"info\tSTATUS\t{resource.response.status_code} {resource.response.status_phrase}")


def show(note, indent=""):
    summary = " ".join(note.summary.split())
    print(f"{note.level.value}\t{indent}{note.__class__.__name__}\t{summary}")
    for sub in note.subnotes:
        show(sub, indent + "  ")


for note in resource.response.notes:
    show(note)
PY
}

# build_backend, start_backend, stop_backend, login.
# shellcheck source=scripts/backend-process.sh
. "$ROOT/scripts/backend-process.sh"
[ ${#BACKENDS[@]} -gt 0 ] || mapfile -t BACKENDS < <(workspace_backends)

# check_page NAME PATH [HEADER...]: prints the page's verdict; returns 1 on a finding.
check_page() {
    local name=$1 path=$2 notes level note summary key bare ok=0 status
    shift 2
    notes=$(redbot_notes "$URL$path" "$@") || {
        echo "backend-$name $path: REDbot itself failed"
        return 1
    }
    status=$(awk -F'\t' '$2 == "STATUS" { print $3 }' <<<"$notes")
    echo "backend-$name $path: $status"
    while IFS=$'\t' read -r level note summary; do
        bare=${note#"${note%%[! ]*}"}
        key="$path $bare"
        case $level in
        bad)
            echo "  ERROR $bare: $summary"
            ok=1
            ;;
        warning)
            if [ -n "${ACCEPTED[$key]:-}" ]; then
                echo "  warning $bare: $summary -- accepted: ${ACCEPTED[$key]}"
            elif [ -n "${ACCEPTED[$bare]:-}" ]; then
                echo "  warning $bare: $summary -- accepted: ${ACCEPTED[$bare]}"
            else
                echo "  WARNING $bare: $summary -- not explained in scripts/redbot.sh"
                ok=1
            fi
            ;;
        esac
    done <<<"$notes"
    return "$ok"
}

ensure_venv
failed=()
start=$SECONDS
for name in "${BACKENDS[@]}"; do
    build_backend "$name"
    dir=$(mktemp -d)
    if ! start_backend "$name" "$dir"; then
        failed+=("$name")
        continue
    fi
    ok=1
    token=$(login)
    [ -n "$token" ] || { echo "backend-$name: could not sign up and log in $USERNAME"; ok=0; }
    for path in "${PAGES[@]}"; do
        if [ "$path" = /me ]; then
            check_page "$name" "$path" "Cookie: sitebench_session=$token" || ok=0
        else
            check_page "$name" "$path" || ok=0
        fi
    done
    stop_backend "$name" || ok=0
    if [ -s "$dir/stderr" ]; then
        echo "backend-$name wrote on stderr (under --quiet only a 500's cause is written):"
        cat "$dir/stderr"
        ok=0
    fi
    [ "$ok" -eq 1 ] || failed+=("$name")
    rm -rf "$dir"
done
echo "redbot $REDBOT_VERSION: ${#BACKENDS[@]} backend(s), ${#PAGES[@]} pages each, in $((SECONDS - start - BUILD_TIME)) s (and $BUILD_TIME s of builds)"
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all clean"
