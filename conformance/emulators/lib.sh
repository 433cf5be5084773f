# Functions of conformance/emulators/emulators (sourced by it; not run on its own).
# Expects: here, cache, run, timeout_s, grace_s and the *_SPEC / key variables.

die() {
    echo "emulators: $*" >&2
    exit 1
}

say() { echo "emulators: $*" >&2; }

# Holds an exclusive lock on the state folder for the rest of the process, so that two
# concurrent `up`/`down` calls do not race. Started emulators never inherit the lock fd.
with_lock() {
    mkdir -p "$run"
    exec 9>"$run/.lock"
    flock -w 600 9 || die "another emulators command has held $run/.lock for 10 minutes"
}

# Exits with a clear message when a set name is unknown.
check_sets() {
    local set
    for set in "$@"; do
        case "$set" in
        aws | azure | functions) ;;
        *) die "unknown set '$set' (known: aws, azure, functions)" ;;
        esac
    done
}

# Expands sets to components, in start order, without duplicates.
components() {
    local out="" set c x
    for set in "$@"; do
        case "$set" in
        aws) c="moto ministack" ;;
        azure) c="azurite" ;;
        functions) c="functions" ;;
        *) continue ;;
        esac
        for x in $c; do
            case " $out " in *" $x "*) ;; *) out="$out $x" ;; esac
        done
    done
    echo "$out"
}

# --- per-component facts ---------------------------------------------------------------

ports_of() {
    case "$1" in
    moto) echo 5000 ;;
    ministack) echo 4566 ;;
    azurite) echo "10000 10001 10002" ;;
    functions) echo 8093 ;;
    esac
}

# A word every command line of that component contains (guards against reused PIDs).
cmdline_word() {
    case "$1" in
    moto) echo moto_server ;;
    ministack) echo ministack ;;
    azurite) echo azurite ;;
    functions) echo function_host.py ;;
    esac
}

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

http_ok() { curl -fsS -o /dev/null --max-time 3 "$1" 2>/dev/null; }

healthy() {
    case "$1" in
    moto) http_ok http://127.0.0.1:5000/moto-api/ ;;
    ministack) http_ok http://127.0.0.1:4566/_ministack/health ;;
    azurite) tcp_open 10000 && tcp_open 10001 && tcp_open 10002 ;;
    functions) http_ok http://127.0.0.1:8093/health ;;
    esac
}

any_port_open() {
    local p
    for p in $(ports_of "$1"); do
        if tcp_open "$p"; then return 0; fi
    done
    return 1
}

# --- pid files ---------------------------------------------------------------------------

pid_file() { echo "$run/$1.pid"; }
log_file() { echo "$run/$1.log"; }

# Prints the recorded PID when that process is alive and still is the component.
our_pid() {
    local f pid
    f=$(pid_file "$1")
    [ -f "$f" ] || return 1
    pid=$(cat "$f")
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$(cmdline_word "$1")" || return 1
    echo "$pid"
}

# --- installing --------------------------------------------------------------------------

# run_logged LOG SECONDS CMD...: runs CMD with its output in LOG; on failure prints the
# command and the end of its output and exits non-zero.
run_logged() {
    local log=$1 secs=$2 rc=0
    shift 2
    timeout "$secs" "$@" >"$log" 2>&1 </dev/null || rc=$?
    if [ "$rc" -ne 0 ]; then
        {
            echo "emulators: this command failed (exit $rc$([ "$rc" -eq 124 ] && echo ", timed out after ${secs}s")):"
            echo "  $*"
            echo "last lines of its output ($log):"
            tail -n 30 "$log" | sed 's/^/  | /'
        } >&2
        exit 1
    fi
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# install_venv NAME SPEC: a virtual environment at CACHE/NAME/venv holding SPEC, with a
# marker file recording SPEC; skipped when the marker matches.
install_venv() {
    local name=$1 spec=$2 dir="$cache/$1" marker="$cache/$1/installed"
    if [ -f "$marker" ] && [ "$(cat "$marker")" = "$spec" ] && [ -x "$dir/venv/bin/python" ]; then
        return 0
    fi
    # A venv made by hand at the same place with the same pinned version (it may be
    # running right now): adopt it instead of deleting it.
    if [ -x "$dir/venv/bin/python" ] && [ "$(venv_version "$dir/venv" "${spec%%==*}")" = "${spec##*==}" ]; then
        echo "$spec" >"$marker"
        return 0
    fi
    need python3 "install Python 3 (with venv and pip) to run the $name emulator"
    say "installing $spec into $dir/venv"
    rm -rf "$dir"
    mkdir -p "$dir"
    run_logged "$dir/install.log" 120 python3 -m venv "$dir/venv"
    run_logged "$dir/install.log" 900 "$dir/venv/bin/python" -m pip install \
        --disable-pip-version-check --no-input --timeout 30 --retries 3 "$spec"
    echo "$spec" >"$marker"
}

# venv_version VENV SPEC_NAME: the installed version of the distribution, or nothing.
venv_version() {
    local dist=${2%%\[*}
    "$1/bin/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$dist" 2>/dev/null || true
}

# The machine's moto_server, when one is installed and runs.
machine_moto() {
    local m
    m=$(command -v moto_server 2>/dev/null) || return 1
    "$m" --help >/dev/null 2>&1 || return 1
    echo "$m"
}

moto_bin() {
    if [ -x "$cache/moto/venv/bin/moto_server" ] && [ -f "$cache/moto/installed" ]; then
        echo "$cache/moto/venv/bin/moto_server"
    else
        machine_moto
    fi
}

install_moto() {
    if machine_moto >/dev/null; then return 0; fi
    install_venv moto "$MOTO_SPEC"
}

install_ministack() { install_venv ministack "$MINISTACK_SPEC"; }

install_azurite() {
    local dir="$cache/azurite" marker="$cache/azurite/installed"
    need node "install Node.js 18 or 20 (Azurite 3.35.0 needs it)"
    need npm "install npm (Azurite is installed from the npm registry)"
    if [ -f "$marker" ] && [ "$(cat "$marker")" = "$AZURITE_SPEC" ] &&
        [ -x "$dir/node_modules/.bin/azurite" ]; then
        return 0
    fi
    # Installed by hand at the same place with the same version: adopt it.
    if [ -x "$dir/node_modules/.bin/azurite" ] &&
        grep -q "\"version\": *\"${AZURITE_SPEC#*@}\"" "$dir/node_modules/azurite/package.json" 2>/dev/null; then
        echo "$AZURITE_SPEC" >"$marker"
        return 0
    fi
    say "installing $AZURITE_SPEC into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    run_logged "$dir/install.log" 900 npm install --prefix "$dir" --no-audit --no-fund \
        --loglevel=error "$AZURITE_SPEC"
    [ -x "$dir/node_modules/.bin/azurite" ] || die "npm installed $AZURITE_SPEC but $dir/node_modules/.bin/azurite is missing"
    echo "$AZURITE_SPEC" >"$marker"
}

install_functions() {
    need python3 "install Python 3 to run conformance/emulators/function_host.py"
}

# --- starting ----------------------------------------------------------------------------

# Starts the component in its own session (PID = process group id), output to its log.
start_component() {
    local c=$1 log pid
    log=$(log_file "$c")
    mkdir -p "$run/$c.d"
    : >"$log"
    case "$c" in
    moto)
        (cd "$run/$c.d" && exec setsid "$(moto_bin)" -H 127.0.0.1 -p 5000 >"$log" 2>&1 </dev/null 9>&-) &
        ;;
    ministack)
        (cd "$run/$c.d" && BIND_HOST=127.0.0.1 GATEWAY_PORT=4566 \
            exec setsid "$cache/ministack/venv/bin/ministack" >"$log" 2>&1 </dev/null 9>&-) &
        ;;
    azurite)
        (cd "$run/$c.d" && exec setsid "$cache/azurite/node_modules/.bin/azurite" --silent \
            --inMemoryPersistence --disableTelemetry --skipApiVersionCheck --disableProductStyleUrl \
            --blobHost 127.0.0.1 --blobPort 10000 --queueHost 127.0.0.1 --queuePort 10001 \
            --tableHost 127.0.0.1 --tablePort 10002 >"$log" 2>&1 </dev/null 9>&-) &
        ;;
    functions)
        (cd "$run/$c.d" && STRATUS_FUNCTIONS_KEY="$FUNCTIONS_KEY" exec setsid python3 \
            "$here/function_host.py" --host 127.0.0.1 --port 8093 >"$log" 2>&1 </dev/null 9>&-) &
        ;;
    esac
    pid=$!
    echo "$pid" >"$(pid_file "$c")"
    echo "$pid"
}

fail_start() {
    local c=$1 why=$2 log
    log=$(log_file "$c")
    {
        echo "emulators: $c $why"
        echo "last lines of $log:"
        tail -n 40 "$log" 2>/dev/null | sed 's/^/  | /'
    } >&2
    stop_pid "$c" || true
    exit 1
}

wait_healthy() {
    local c=$1 pid=$2 deadline=$((SECONDS + timeout_s))
    until healthy "$c"; do
        if ! alive "$pid"; then
            fail_start "$c" "exited during start-up (ports $(ports_of "$c"))"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail_start "$c" "did not become healthy within ${timeout_s}s (ports $(ports_of "$c"))"
        fi
        sleep 0.3
    done
}

up_component() {
    local c=$1 pid started=$SECONDS
    if pid=$(our_pid "$c"); then
        wait_healthy "$c" "$pid"
        say "$c already running (pid $pid, ports $(ports_of "$c")), reusing it"
    elif healthy "$c"; then
        rm -f "$(pid_file "$c")"
        say "$c: ports $(ports_of "$c") already served by a process this script did not start; using it (down will not stop it)"
    elif any_port_open "$c"; then
        die "$c: a port of $(ports_of "$c") is in use by another program that is not a healthy $c emulator (see: ss -ltnp)"
    else
        pid=$(start_component "$c")
        wait_healthy "$c" "$pid"
        say "$c up (pid $pid, ports $(ports_of "$c"), $((SECONDS - started))s; log $(log_file "$c"))"
    fi
    if [ "$c" = ministack ]; then deploy_lambda; fi
}

# Deploys the conformance functions to ministack, when the deploy script exists.
deploy_lambda() {
    local deploy="$here/lambda/deploy.py" py="$cache/ministack/venv/bin/python"
    [ -f "$deploy" ] || return 0
    [ -x "$py" ] || py=python3
    say "deploying the conformance Lambda functions (lambda/deploy.py)"
    run_logged "$run/lambda-deploy.log" 300 env -u AWS_SESSION_TOKEN -u AWS_PROFILE \
        LAMBDA_ENDPOINT=http://127.0.0.1:4566 FUNCTION_PREFIX=stratus-conf- \
        AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
        AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 "$py" "$deploy"
}

# --- stopping ----------------------------------------------------------------------------

# True while the process exists and is not a zombie waiting for its parent to reap it.
alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# Stops the recorded process of the component (its process group: the PID leads it).
stop_pid() {
    local c=$1 pid target i
    pid=$(our_pid "$c") || {
        rm -f "$(pid_file "$c")"
        return 1
    }
    target=$pid
    if [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then target=-$pid; fi
    kill -TERM -- "$target" 2>/dev/null || true
    for ((i = 0; i < grace_s * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        say "$c (pid $pid) ignored SIGTERM for ${grace_s}s; sending SIGKILL"
        kill -KILL -- "$target" 2>/dev/null || true
    fi
    # Reap stragglers of the group too (e.g. Lambda workers) without waiting.
    if [ "$target" != "$pid" ]; then kill -KILL -- "$target" 2>/dev/null || true; fi
    rm -f "$(pid_file "$c")"
    return 0
}

down_component() {
    local c=$1 pid
    if pid=$(our_pid "$c"); then
        stop_pid "$c"
        say "$c stopped (pid $pid)"
    else
        rm -f "$(pid_file "$c")"
        if any_port_open "$c"; then
            say "$c: ports $(ports_of "$c") are served by a process this script did not start; left running"
        else
            say "$c not running"
        fi
    fi
}

# --- reset, env, status ------------------------------------------------------------------

reset_set() {
    case "$1" in
    aws)
        healthy moto || die "reset aws: moto is not running on 127.0.0.1:5000 (run: emulators up aws)"
        curl -fsS -o /dev/null --max-time 10 -X POST http://127.0.0.1:5000/moto-api/reset ||
            die "reset aws: POST http://127.0.0.1:5000/moto-api/reset failed"
        say "moto reset (S3, SQS, DynamoDB wiped); ministack keeps the deployed Lambda functions"
        ;;
    azure)
        our_pid azurite >/dev/null ||
            die "reset azure: Azurite was not started by this script; cannot restart it"
        down_component azurite
        up_component azurite
        say "Azurite restarted (in-memory state wiped)"
        ;;
    functions) say "functions: the function host keeps no state; nothing to reset" ;;
    *) die "unknown set '$1' (known: aws, azure, functions)" ;;
    esac
}

env_set() {
    case "$1" in
    aws)
        cat <<'EOF'
unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_ACCESS_KEY_ID='testing'
export AWS_SECRET_ACCESS_KEY='testing'
export AWS_REGION='us-east-1'
export STRATUS_AWS_ENDPOINT='http://127.0.0.1:5000'
export STRATUS_S3_PATH_STYLE='true'
export STRATUS_LAMBDA_ENDPOINT='http://127.0.0.1:4566'
EOF
        ;;
    azure)
        cat <<EOF
export AZURE_STORAGE_ACCOUNT='$AZURITE_ACCOUNT'
export AZURE_STORAGE_KEY='$AZURITE_KEY'
export STRATUS_AZURE_BLOB_ENDPOINT='http://127.0.0.1:10000/$AZURITE_ACCOUNT'
export STRATUS_AZURE_QUEUE_ENDPOINT='http://127.0.0.1:10001/$AZURITE_ACCOUNT'
export STRATUS_AZURE_TABLE_ENDPOINT='http://127.0.0.1:10002/$AZURITE_ACCOUNT'
EOF
        ;;
    functions)
        cat <<EOF
export STRATUS_FUNCTIONS_URL='http://127.0.0.1:8093'
export STRATUS_FUNCTIONS_KEY='$FUNCTIONS_KEY'
EOF
        ;;
    *) die "unknown set '$1' (known: aws, azure, functions)" ;;
    esac
}

status_component() {
    local c=$1 pid state
    if pid=$(our_pid "$c"); then
        if healthy "$c"; then state="running, healthy (pid $pid)"; else state="running, NOT healthy (pid $pid)"; fi
    elif healthy "$c"; then
        state="served by a process this script did not start"
    else
        state="stopped"
    fi
    printf '%-10s %-18s %s\n' "$c" "$(ports_of "$c" | tr ' ' ',')" "$state"
}
