# shellcheck shell=bash
# Shared helpers for scripts/demo and scripts/test. Sourced, never run on its own.
#
# Everything here is idempotent: on a machine that is already set up, each helper costs
# one or two file checks, so the everyday `scripts/test` stays fast.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO_ROOT/.venv"

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        warn "need root for: $* (not root and no sudo)"
        return 1
    fi
}

# Install Debian packages. `apt-get update` runs at most once per script run, and only when
# something is actually missing, so a set-up machine never touches the network here.
_APT_UPDATED=""
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        warn "apt-get not found; install these packages yourself: $*"
        return 1
    fi
    if [ -z "$_APT_UPDATED" ]; then
        say "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        _APT_UPDATED=1
    fi
    say "apt-get install $*"
    # --no-install-recommends: chromium alone recommends a printing and notification stack
    # we never use; callers list what they need (e.g. fonts) explicitly.
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A fresh Debian 12 may have no python3, and `python3 -m venv` needs python3-venv (ensurepip)
# even when python3 is there. Debian 12's python3 is 3.11, which pyproject.toml requires.
ensure_python() {
    if command -v python3 >/dev/null 2>&1 && python3 -c 'import ensurepip, venv' 2>/dev/null; then
        return 0
    fi
    apt_install python3 python3-venv
}

# Create .venv when missing (or broken) and `pip install -e .[EXTRAS]` when pyproject.toml
# changed since the last install. The stamp lives inside .venv, so deleting the venv also
# forgets the stamp. A "dev" install also satisfies a plain one (dev is a superset).
#   ensure_venv        -> pip install -e .
#   ensure_venv dev    -> pip install -e .[dev]
ensure_venv() {
    local extras="${1:-}"
    local name="${extras:-base}"
    local spec="."
    if [ -n "$extras" ]; then spec=".[$extras]"; fi

    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c '' 2>/dev/null; then
        ensure_python || { warn "python3 with venv support is not available"; return 1; }
        say "creating $VENV"
        rm -rf "$VENV"
        python3 -m venv "$VENV" || return 1
    fi

    local hash
    hash="$(sha256sum "$REPO_ROOT/pyproject.toml" | cut -d' ' -f1)"
    local stamp
    for stamp in "$VENV/.tandem-installed-$name" "$VENV/.tandem-installed-dev"; do
        if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
            return 0
        fi
    done

    say "pip install -e '$spec' (pyproject.toml changed or first install)"
    (cd "$REPO_ROOT" && "$VENV/bin/pip" install --quiet --disable-pip-version-check -e "$spec") \
        || return 1
    # Written only after a successful install, so a failed one is retried next time.
    echo "$hash" >"$VENV/.tandem-installed-$name"
}
