# shellcheck shell=bash
# Makes a MariaDB available and exports DATABASE_URL. Sourced by scripts/test, scripts/db and
# (later) scripts/demo, so every entry point finds or starts the database the same way:
#
#   1. DATABASE_URL, when set and reachable;
#   2. otherwise a server already running on 127.0.0.1:3306 as root without password
#      (Debian's default MariaDB, as on the development machines);
#   3. otherwise a private server with its data under .data/mariadb, on port $TCA_DB_PORT
#      (default 3307), started in the background and left running for the next run.
#      mariadb-server is installed with apt-get when missing and we are root.

TCA_ROOT=${TCA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TCA_DB_PORT=${TCA_DB_PORT:-3307}
TCA_DB_DIR=${TCA_DB_DIR:-$TCA_ROOT/.data/mariadb}
TCA_DB_DEFAULT_URL=${TCA_DB_DEFAULT_URL:-"mysql://root@127.0.0.1:3306/test"}

tca_log() { printf '\033[1m[tca]\033[0m %s\n' "$*" >&2; }

# Splits a mysql:// URL into DB_USER DB_PASS DB_HOST DB_PORT DB_NAME.
tca_parse_url() {
    local url=$1 rest creds hostport
    rest=${url#*://}
    if [[ $rest == *@* ]]; then creds=${rest%%@*}; rest=${rest#*@}; else creds=""; fi
    DB_USER=${creds%%:*}
    if [[ $creds == *:* ]]; then DB_PASS=${creds#*:}; else DB_PASS=""; fi
    hostport=${rest%%/*}
    DB_NAME=${rest#*/}; DB_NAME=${DB_NAME%%\?*}
    [[ $rest == */* ]] || DB_NAME=""
    DB_HOST=${hostport%%:*}
    if [[ $hostport == *:* ]]; then DB_PORT=${hostport#*:}; else DB_PORT=3306; fi
    DB_USER=${DB_USER:-root}
}

tca_have_client() { command -v mariadb >/dev/null 2>&1 || command -v mysql >/dev/null 2>&1; }

tca_client() {
    if command -v mariadb >/dev/null 2>&1; then mariadb "$@"; else mysql "$@"; fi
}

# True when the URL's server accepts the URL's credentials.
tca_db_reachable() {
    tca_have_client || return 1
    tca_parse_url "$1"
    MYSQL_PWD=$DB_PASS tca_client --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" \
        --connect-timeout=3 -e 'SELECT 1' >/dev/null 2>&1
}

tca_find_mariadbd() {
    local candidate
    for candidate in "$(command -v mariadbd 2>/dev/null)" /usr/sbin/mariadbd /usr/sbin/mysqld; do
        [[ -n $candidate && -x $candidate ]] && { echo "$candidate"; return 0; }
    done
    return 1
}

tca_install_mariadb() {
    if tca_find_mariadbd >/dev/null && tca_have_client && command -v mariadb-install-db >/dev/null; then
        return 0
    fi
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        tca_log "installing mariadb-server and mariadb-client with apt-get"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server mariadb-client >&2
        # Debian's package may start its own server; ours runs separately on $TCA_DB_PORT.
        return 0
    fi
    tca_log "MariaDB is needed and not installed. Install it, then run this again:"
    tca_log "  Debian/Ubuntu: sudo apt-get install mariadb-server mariadb-client"
    tca_log "  Fedora:        sudo dnf install mariadb-server"
    tca_log "  macOS:         brew install mariadb"
    tca_log "or point DATABASE_URL at a MariaDB 10.11+ server (user allowed to CREATE DATABASE)."
    return 1
}

tca_private_socket() {
    # Unix socket paths are limited to ~100 bytes: keep it short, unique per data dir.
    echo "/tmp/tca-mariadb-$(printf '%s' "$TCA_DB_DIR" | cksum | cut -d' ' -f1).sock"
}

tca_private_url() { echo "mysql://tca:tca@127.0.0.1:$TCA_DB_PORT/tca"; }

tca_start_private_db() {
    tca_install_mariadb || return 1
    local mariadbd socket user_args=()
    mariadbd=$(tca_find_mariadbd)
    socket=$(tca_private_socket)
    mkdir -p "$TCA_DB_DIR"
    [[ $(id -u) -eq 0 ]] && user_args=(--user=root)
    if [[ ! -d $TCA_DB_DIR/mysql ]]; then
        tca_log "initialising a private MariaDB in $TCA_DB_DIR"
        mariadb-install-db --no-defaults --datadir="$TCA_DB_DIR" "${user_args[@]}" \
            --auth-root-authentication-method=socket --skip-test-db \
            >"$TCA_DB_DIR/install.log" 2>&1 \
            || { tca_log "mariadb-install-db failed; see $TCA_DB_DIR/install.log"; return 1; }
    fi
    tca_log "starting a private MariaDB on 127.0.0.1:$TCA_DB_PORT (data in $TCA_DB_DIR)"
    # Durability is relaxed (flush the log once a second): this server holds test and demo
    # data only, and the saved fsyncs make test runs much faster.
    nohup "$mariadbd" --no-defaults --datadir="$TCA_DB_DIR" "${user_args[@]}" \
        --port="$TCA_DB_PORT" --bind-address=127.0.0.1 --socket="$socket" \
        --pid-file="$TCA_DB_DIR/mariadbd.pid" --log-error="$TCA_DB_DIR/error.log" \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size=512M --innodb-flush-log-at-trx-commit=2 \
        --max-connections=500 --skip-name-resolve \
        >/dev/null 2>&1 &
    local i
    for i in $(seq 1 120); do
        if tca_client --socket="$socket" -u root -e 'SELECT 1' >/dev/null 2>&1; then
            tca_client --socket="$socket" -u root -e "
                CREATE USER IF NOT EXISTS 'tca'@'127.0.0.1' IDENTIFIED BY 'tca';
                GRANT ALL PRIVILEGES ON *.* TO 'tca'@'127.0.0.1' WITH GRANT OPTION;
                CREATE DATABASE IF NOT EXISTS tca CHARACTER SET utf8mb4;" || return 1
            return 0
        fi
        sleep 0.5
    done
    tca_log "the private MariaDB did not start; see $TCA_DB_DIR/error.log"
    return 1
}

tca_stop_private_db() {
    local pidfile=$TCA_DB_DIR/mariadbd.pid pid
    [[ -f $pidfile ]] || { tca_log "no private MariaDB running"; return 0; }
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    tca_log "private MariaDB stopped"
}

# Exports a reachable DATABASE_URL, starting a private server if needed.
tca_ensure_database() {
    if [[ -n ${DATABASE_URL:-} ]]; then
        if tca_db_reachable "$DATABASE_URL"; then
            return 0
        fi
        tca_log "DATABASE_URL is set but its server does not answer; falling back"
    fi
    if tca_db_reachable "$TCA_DB_DEFAULT_URL"; then
        export DATABASE_URL=$TCA_DB_DEFAULT_URL
        return 0
    fi
    if tca_db_reachable "$(tca_private_url)"; then
        export DATABASE_URL; DATABASE_URL=$(tca_private_url)
        return 0
    fi
    tca_start_private_db || return 1
    export DATABASE_URL; DATABASE_URL=$(tca_private_url)
    tca_db_reachable "$DATABASE_URL" || { tca_log "the private MariaDB does not accept connections"; return 1; }
}
