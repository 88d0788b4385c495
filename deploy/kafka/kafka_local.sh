#!/usr/bin/env bash
# kafka_local.sh - a real single-node Apache Kafka 3.9.1 (KRaft) broker on loopback,
# fetched from Maven Central (no tarball, no Docker).
#
#   kafka_local.sh fetch            download the broker jars (idempotent, cached)
#   kafka_local.sh start   [DIR] [--sasl-ssl]
#                                   format + start a broker, wait until ready,
#                                   print "bootstrap=127.0.0.1:PORT"; with --sasl-ssl
#                                   (or CG_KAFKA_SECURE=1) also a SASL_SSL listener
#                                   (SCRAM-SHA-512), printed as "bootstrap_sasl_ssl=..."
#   kafka_local.sh stop    [DIR]    SIGTERM, wait up to 30 s, then SIGKILL
#   kafka_local.sh restart [DIR]    stop, then start on the same ports, data and mode
#   kafka_local.sh status  [DIR]    exit 0 + print bootstrap if running, else exit 1
#
# DIR defaults to ${CG_KAFKA_DIR:-/tmp/contactgate-kafka}.
# Knobs: CG_KAFKA_LIBS, CG_KAFKA_PORT, CG_KAFKA_JVM_OPTS, CG_KAFKA_START_TIMEOUT;
# secure mode: CG_KAFKA_SECURE, CG_KAFKA_TLS_DIR, CG_KAFKA_SCRAM_USER, CG_KAFKA_SCRAM_PASSWORD.
# See deploy/kafka/README.md.
set -euo pipefail

KAFKA_VERSION=3.9.1
SCALA_VERSION=2.13
SLF4J_SIMPLE_VERSION=1.7.36
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1

LIBS=${CG_KAFKA_LIBS:-$HOME/.cache/contactgate/kafka-${KAFKA_VERSION}/libs}
JVM_OPTS=${CG_KAFKA_JVM_OPTS:--Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}
# Always applied (not replaced by CG_KAFKA_JVM_OPTS): timestamps in broker.log.
LOG_OPTS="-Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS"
TOOL_JVM_OPTS="-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true"
START_TIMEOUT=${CG_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=30
HOST=127.0.0.1

log() { printf 'kafka_local: %s\n' "$*" >&2; }
# Seconds since T0 (from now_cs) with one decimal.
now_cs() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 10000)); }
since() { local d=$(($(now_cs) - $1)); printf '%d.%d' $((d / 100)) $((d % 100 / 10)); }
die() { printf 'kafka_local: error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------- prerequisites
need_java() {
    command -v java >/dev/null 2>&1 ||
        die "java not found: install a Java 17 runtime (Debian: apt-get install default-jre-headless)"
    local v
    v=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    v=${v#1.}
    if [[ -n "$v" && "$v" =~ ^[0-9]+$ && "$v" -lt 11 ]]; then
        die "java $v is too old for Kafka $KAFKA_VERSION (needs 11+, 17 recommended; Debian: apt-get install default-jre-headless)"
    fi
}

need_python() {
    command -v python3 >/dev/null 2>&1 ||
        die "python3 not found (used to pick free ports): Debian: apt-get install python3-minimal"
}

# ---------------------------------------------------------------- fetch
libs_ready() {
    [[ -f "$LIBS/.complete" ]] && compgen -G "$LIBS/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar" >/dev/null
}

do_fetch() {
    libs_ready && return 0
    command -v mvn >/dev/null 2>&1 ||
        die "mvn not found: needed once to fetch Kafka from Maven Central (Debian: apt-get install maven)"
    need_java
    local parent lock
    parent=$(dirname "$LIBS")
    mkdir -p "$parent"
    lock="$parent/.fetch.lock"
    # Serialise concurrent fetches (e.g. two brokers started at once on a fresh machine).
    exec 9>"$lock"
    flock 9
    if libs_ready; then exec 9>&-; return 0; fi

    local work
    work=$(mktemp -d "$parent/.fetch.XXXXXX")
    cat >"$work/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>contactgate.local</groupId>
  <artifactId>kafka-local-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${SCALA_VERSION}</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>${SLF4J_SIMPLE_VERSION}</version>
    </dependency>
  </dependencies>
</project>
EOF
    log "fetching Kafka ${KAFKA_VERSION} jars from Maven Central into $LIBS (first time only)"
    local t0; t0=$(now_cs)
    if ! mvn -B -q -f "$work/pom.xml" "${DEP_PLUGIN}:copy-dependencies" \
            -DincludeScope=runtime -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1; then
        tail -n 40 "$work/mvn.log" >&2
        rm -rf "$work"
        exec 9>&-
        die "mvn failed to fetch org.apache.kafka:kafka_${SCALA_VERSION}:${KAFKA_VERSION} (is Maven Central reachable?)"
    fi
    [[ -f "$work/libs/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar" ]] || {
        rm -rf "$work"; exec 9>&-; die "mvn ran but kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar is missing"; }
    touch "$work/libs/.complete"
    rm -rf "$LIBS"
    mv "$work/libs" "$LIBS"
    rm -rf "$work"
    exec 9>&-
    log "fetched $(ls "$LIBS" | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $(since "$t0") s"
}

# ---------------------------------------------------------------- helpers
# Echo the pid of the broker of DIR if it is alive, else nothing (and return 1).
running_pid() {
    local dir=$1 pid
    [[ -f "$dir/broker.pid" ]] || return 1
    pid=$(<"$dir/broker.pid")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against pid reuse: the process must be this DIR's kafka.Kafka.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $dir/server.properties" || return 1
    echo "$pid"
}

# Print two (or $1) distinct free loopback ports (bound simultaneously, then released).
free_ports() {
    need_python
    python3 - "$@" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

port_free() {
    need_python
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

# Does something accept TCP connections on loopback PORT? (bash's /dev/tcp; loopback
# refuses at once when nothing listens.)
tcp_open() {
    (exec 3<>"/dev/tcp/${HOST}/$1") 2>/dev/null
}

write_properties() {
    local dir=$1 port=$2 cport=$3 sport=${4:-}
    local listeners="PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${cport}"
    local advertised="PLAINTEXT://${HOST}:${port}"
    local protomap="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    if [[ -n "$sport" ]]; then
        listeners+=",SASL_SSL://${HOST}:${sport}"
        advertised+=",SASL_SSL://${HOST}:${sport}"
        protomap+=",SASL_SSL:SASL_SSL"
    fi
    cat >"$dir/server.properties" <<EOF
# Written by deploy/kafka/kafka_local.sh: single-node KRaft broker+controller on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${cport}
listeners=${listeners}
advertised.listeners=${advertised}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=${protomap}
log.dirs=${dir}/data

# One node: every internal topic has one replica, and a min ISR of one.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
default.replication.factor=1
min.insync.replicas=1
num.partitions=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0

# Small machine: the 128 MiB dedupe buffer default does not fit a small heap.
log.cleaner.dedupe.buffer.size=2097152
num.network.threads=1
num.io.threads=2
EOF
    if [[ -n "$sport" ]]; then
        cat >>"$dir/server.properties" <<EOF

# SASL_SSL listener for clients (secure mode): TLS with a PEM key store, SCRAM-SHA-512
# users stored in the metadata log (added at format time). Inter-broker, controller
# and admin traffic stay on PLAINTEXT.
sasl.enabled.mechanisms=${SCRAM_MECHANISM}
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=${dir}/tls/broker-keystore.pem
listener.name.sasl_ssl.ssl.client.auth=none
EOF
        printf '%s %s %s\n' "$port" "$cport" "$sport" >"$dir/ports"
    else
        printf '%s %s\n' "$port" "$cport" >"$dir/ports"
    fi
}

# ---------------------------------------------------------------- secure mode (SASL_SSL)
SCRAM_MECHANISM=SCRAM-SHA-512
# What StorageTool's --add-scram 'SCRAM-SHA-512=[name=U,password=P]' parses unambiguously.
SCRAM_VALUE_RE='^[A-Za-z0-9._~+-]+$'
SCRAM_USER=
SCRAM_PASSWORD=

need_openssl() {
    command -v openssl >/dev/null 2>&1 ||
        die "openssl not found: needed for --sasl-ssl (Debian: apt-get install openssl)"
}

# A throwaway CA and a broker certificate for 127.0.0.1 and localhost, in TLS_DIR. The CA
# key is deleted once the broker certificate is signed.
make_tls() {
    local tls=$1
    log "making a throwaway CA and broker certificate in $tls"
    (
        umask 077
        set -e
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 30 \
            -subj "/CN=kafka_local.sh throwaway CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -newkey rsa:2048 -nodes -keyout "$tls/broker.key" -out "$tls/broker.csr" -subj "/CN=localhost"
        printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$tls/broker.ext"
        openssl x509 -req -in "$tls/broker.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
            -set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$tls/broker.ext" -out "$tls/broker.pem"
        rm -f "$tls/ca.key" "$tls/broker.csr" "$tls/broker.ext"
    ) >"$tls/openssl.log" 2>&1 || die "openssl failed to make the certificates: $(tail -n 5 "$tls/openssl.log")"
}

# Secure mode, before the broker starts: the TLS material in DIR/tls (from CG_KAFKA_TLS_DIR,
# else made here, else kept from an earlier start), the SCRAM credentials (fixed at the first
# format of DIR), and DIR/client-sasl-ssl.properties (librdkafka/kcat -F settings, mode 0600).
prepare_secure() {
    local dir=$1 tls=$1/tls
    need_openssl
    local user=${CG_KAFKA_SCRAM_USER:-} pass=${CG_KAFKA_SCRAM_PASSWORD:-}
    if [[ -f "$dir/scram_user" ]]; then
        # DIR was formatted with SCRAM credentials; the metadata log keeps them.
        local ruser rpass
        ruser=$(<"$dir/scram_user")
        rpass=$(sed -n 's/^sasl\.password=//p' "$dir/client-sasl-ssl.properties" 2>/dev/null || true)
        if [[ -n "$user" && "$user" != "$ruser" ]] || [[ -n "$pass" && "$pass" != "$rpass" ]]; then
            die "$dir already holds the SCRAM user '$ruser' with another password or name: credentials are set when DIR is first formatted; use a new DIR"
        fi
        [[ -n "$rpass" ]] || die "$dir/client-sasl-ssl.properties lost the SCRAM password; use a new DIR"
        user=$ruser pass=$rpass
    elif [[ -f "$dir/data/meta.properties" ]]; then
        die "$dir was formatted without SASL_SSL (a plain start): SCRAM users are added at format time; use a new DIR for --sasl-ssl"
    else
        user=${user:-contactgate}
        pass=${pass:-$(openssl rand -hex 16)}
        [[ "$user" =~ $SCRAM_VALUE_RE ]] || die "CG_KAFKA_SCRAM_USER may only hold A-Z a-z 0-9 . _ ~ + -"
        [[ "$pass" =~ $SCRAM_VALUE_RE ]] || die "CG_KAFKA_SCRAM_PASSWORD may only hold A-Z a-z 0-9 . _ ~ + -"
    fi
    mkdir -p "$tls"
    chmod 700 "$tls"
    if [[ -n "${CG_KAFKA_TLS_DIR:-}" ]]; then
        local src=$CG_KAFKA_TLS_DIR
        [[ -f "$src/broker.pem" && -f "$src/broker.key" ]] ||
            die "CG_KAFKA_TLS_DIR=$src must hold broker.pem (the broker certificate, then its chain) and broker.key (its unencrypted private key)"
        # Kafka's PEM key store reads unencrypted PKCS#8; openssl pkey converts other forms.
        (umask 077; openssl pkey -in "$src/broker.key" -passin pass: -out "$tls/broker.key.new") 2>"$tls/openssl.log" ||
            die "cannot read $src/broker.key (it must be an unencrypted PEM private key): $(tail -n 3 "$tls/openssl.log")"
        mv -f "$tls/broker.key.new" "$tls/broker.key"
        cp -f "$src/broker.pem" "$tls/broker.pem"
        if [[ -f "$src/ca.pem" ]]; then cp -f "$src/ca.pem" "$tls/ca.pem"; else rm -f "$tls/ca.pem"; fi
    elif [[ ! -f "$tls/broker.key" || ! -f "$tls/broker.pem" ]]; then
        make_tls "$tls"
    fi
    local kpub cpub
    kpub=$(openssl pkey -in "$tls/broker.key" -pubout 2>/dev/null) || die "$tls/broker.key is not a readable private key"
    cpub=$(openssl x509 -in "$tls/broker.pem" -noout -pubkey 2>/dev/null) || die "$tls/broker.pem is not a PEM certificate"
    [[ "$kpub" == "$cpub" ]] || die "broker.key does not belong to the first certificate of broker.pem"
    (umask 077; cat "$tls/broker.key" "$tls/broker.pem" >"$tls/broker-keystore.pem")

    SCRAM_USER=$user SCRAM_PASSWORD=$pass
    (
        umask 077
        {
            echo "# librdkafka / kcat -F settings for the SASL_SSL listener of $dir (holds the password)"
            echo "security.protocol=SASL_SSL"
            echo "sasl.mechanisms=${SCRAM_MECHANISM}"
            echo "sasl.username=${user}"
            echo "sasl.password=${pass}"
            if [[ -f "$tls/ca.pem" ]]; then echo "ssl.ca.location=${tls}/ca.pem"; fi
        } >"$dir/client-sasl-ssl.properties.new"
    )
    mv -f "$dir/client-sasl-ssl.properties.new" "$dir/client-sasl-ssl.properties"
}

# One SASL_SSL round trip (TLS handshake, SCRAM login, Metadata) with kcat when it is there.
secure_ready() {
    local dir=$1 sport=$2
    tcp_open "$sport" || return 1
    command -v kcat >/dev/null 2>&1 || return 0
    [[ -f "$dir/tls/ca.pem" ]] || return 0   # no CA to verify with: the TCP check must do
    kcat -F "$dir/client-sasl-ssl.properties" -b "${HOST}:${sport}" -L -m 5 -q >/dev/null 2>"$dir/secure_check.log"
}

# Is the broker of DIR answering on PORT?
broker_ready() {
    local dir=$1 port=$2
    # The broker opens its PLAINTEXT listener only at the end of startup, so a cheap
    # connect test first; then a real client round trip (Metadata request).
    if command -v kcat >/dev/null 2>&1; then
        tcp_open "$port" && kcat -b "${HOST}:${port}" -L -m 5 -q >/dev/null 2>&1
    else
        tcp_open "$port" &&
            grep -qE 'Kafka Server started|started \(kafka\.server\.KafkaRaftServer\)' "$dir/broker.log"
    fi
}

fail_start() {
    local dir=$1 msg=$2
    log "$msg"
    if [[ -f "$dir/broker.log" ]]; then
        printf -- '---- last lines of %s ----\n' "$dir/broker.log" >&2
        tail -n 40 "$dir/broker.log" >&2
        printf -- '----\n' >&2
    fi
    exit 1
}

# Format (keeping existing data) and start the broker of DIR on PORT/CPORT; wait until ready.
# Returns 0 when ready, 3 when a port was taken (caller may retry), exits otherwise.
launch() {
    local dir=$1 port=$2 cport=$3 sport=${4:-}
    write_properties "$dir" "$port" "$cport" "$sport"
    mkdir -p "$dir/data"
    local cp="$LIBS/*" uuid scram=()
    if [[ -n "$sport" && ! -f "$dir/data/meta.properties" ]]; then
        # The SCRAM user goes into the metadata log when DIR is first formatted.
        scram=(--add-scram "${SCRAM_MECHANISM}=[name=${SCRAM_USER},password=${SCRAM_PASSWORD}]")
    fi
    if [[ ! -f "$dir/data/meta.properties" ]]; then
        # shellcheck disable=SC2086
        uuid=$(java $TOOL_JVM_OPTS -cp "$cp" kafka.tools.StorageTool random-uuid 2>"$dir/format.log") ||
            fail_start "$dir" "StorageTool random-uuid failed: $(tail -n 5 "$dir/format.log")"
        echo "$uuid" >"$dir/cluster.id"
    else
        uuid=$(sed -n 's/^cluster.id=//p' "$dir/data/meta.properties")
    fi
    # shellcheck disable=SC2086
    java $TOOL_JVM_OPTS -cp "$cp" kafka.tools.StorageTool format -t "$uuid" \
            -c "$dir/server.properties" --ignore-formatted "${scram[@]}" >"$dir/format.log" 2>&1 ||
        { cat "$dir/format.log" >&2; fail_start "$dir" "StorageTool format failed"; }
    if [[ ${#scram[@]} -gt 0 ]]; then echo "$SCRAM_USER" >"$dir/scram_user"; fi

    [[ -f "$dir/broker.log" ]] && mv -f "$dir/broker.log" "$dir/broker.log.1"
    # setsid: the broker outlives this script and the caller's terminal/process group.
    # shellcheck disable=SC2086
    setsid java $JVM_OPTS $LOG_OPTS -cp "$cp" kafka.Kafka "$dir/server.properties" \
        </dev/null >"$dir/broker.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$dir/broker.pid"

    local t0 t0s=$SECONDS
    t0=$(now_cs)
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$dir/broker.pid"
            if grep -q 'Address already in use' "$dir/broker.log" 2>/dev/null; then
                return 3
            fi
            fail_start "$dir" "broker exited during startup"
        fi
        if broker_ready "$dir" "$port" && { [[ -z "$sport" ]] || secure_ready "$dir" "$sport"; }; then
            if [[ -n "$sport" ]]; then
                log "broker pid $pid ready on ${HOST}:${port} and SASL_SSL ${HOST}:${sport} after $(since "$t0") s"
            else
                log "broker pid $pid ready on ${HOST}:${port} after $(since "$t0") s"
            fi
            return 0
        fi
        if ((SECONDS - t0s >= START_TIMEOUT)); then
            kill -KILL "$pid" 2>/dev/null || true
            rm -f "$dir/broker.pid"
            if [[ -n "$sport" && -s "$dir/secure_check.log" ]]; then
                log "SASL_SSL check with kcat -F $dir/client-sasl-ssl.properties: $(tail -n 3 "$dir/secure_check.log")"
            fi
            fail_start "$dir" "broker not ready after ${START_TIMEOUT} s (killed)"
        fi
        sleep 0.5
    done
}

announce() {
    local dir=$1 port=$2 sport=${3:-}
    printf '%s:%s\n' "$HOST" "$port" >"$dir/bootstrap"
    printf 'bootstrap=%s:%s\n' "$HOST" "$port"
    if [[ -n "$sport" ]]; then
        printf '%s:%s\n' "$HOST" "$sport" >"$dir/bootstrap_sasl_ssl"
        printf 'bootstrap_sasl_ssl=%s:%s\n' "$HOST" "$sport"
    fi
}

# The bootstrap line(s) of a running broker of DIR.
print_bootstrap() {
    local dir=$1
    printf 'bootstrap=%s\n' "$(<"$dir/bootstrap")"
    if [[ -f "$dir/bootstrap_sasl_ssl" ]]; then
        printf 'bootstrap_sasl_ssl=%s\n' "$(<"$dir/bootstrap_sasl_ssl")"
    fi
}

# ---------------------------------------------------------------- commands
# Absolute path of DIR (created only by start/restart, so status/stop have no side effect).
resolve_dir() {
    local d=${1:-${CG_KAFKA_DIR:-/tmp/contactgate-kafka}} create=${2:-no}
    [[ "$create" == yes ]] && mkdir -p "$d"
    if [[ -d "$d" ]]; then (cd "$d" && pwd -P); else
        case "$d" in /*) echo "$d" ;; *) echo "$PWD/$d" ;; esac
    fi
}

cmd_start() {
    local dir=$1 reuse_ports=${2:-no} secure=${3:-no}
    local pid saved_sport=
    # restart: the mode (plain or SASL_SSL) of the ports being reused.
    if [[ "$reuse_ports" == yes && -f "$dir/ports" ]]; then
        read -r _ _ saved_sport <"$dir/ports"
        [[ -n "$saved_sport" ]] && secure=yes
    fi
    if pid=$(running_pid "$dir"); then
        log "a broker from $dir is already running (pid $pid)"
        if [[ "$secure" == yes && ! -f "$dir/bootstrap_sasl_ssl" ]]; then
            die "it has no SASL_SSL listener: stop it first to start $dir with --sasl-ssl"
        fi
        print_bootstrap "$dir"
        return 0
    fi
    rm -f "$dir/broker.pid"
    need_java
    do_fetch
    if [[ "$secure" == yes ]]; then
        prepare_secure "$dir"
    else
        rm -f "$dir/bootstrap_sasl_ssl"
    fi

    local port cport sport= tries=0 rc
    while :; do
        tries=$((tries + 1))
        if [[ "$reuse_ports" == yes && -f "$dir/ports" ]]; then
            read -r port cport sport <"$dir/ports"
        elif [[ -n "${CG_KAFKA_PORT:-}" ]]; then
            [[ "$CG_KAFKA_PORT" =~ ^[0-9]+$ ]] || die "CG_KAFKA_PORT must be a port number, got '$CG_KAFKA_PORT'"
            port=$CG_KAFKA_PORT
            if [[ "$secure" == yes ]]; then
                local p3=() p
                for p in $(free_ports 3); do [[ "$p" != "$port" ]] && p3+=("$p"); done
                cport=${p3[0]} sport=${p3[1]}
            else
                cport=$(free_ports | cut -d' ' -f1)
                [[ "$cport" != "$port" ]] || cport=$(free_ports | cut -d' ' -f2)
            fi
        elif [[ "$secure" == yes ]]; then
            read -r port cport sport < <(free_ports 3)
        else
            read -r port cport < <(free_ports)
        fi
        port_free "$port" || die "port ${HOST}:${port} is already in use"
        port_free "$cport" || die "controller port ${HOST}:${cport} is already in use"
        if [[ -n "$sport" ]]; then
            port_free "$sport" || die "SASL_SSL port ${HOST}:${sport} is already in use"
        fi
        rc=0
        launch "$dir" "$port" "$cport" "$sport" || rc=$?
        [[ $rc -eq 0 ]] && break
        # rc 3: a port was grabbed between picking and binding; retry fresh ones.
        if [[ $rc -eq 3 && "$reuse_ports" != yes && -z "${CG_KAFKA_PORT:-}" && $tries -lt 3 ]]; then
            log "port race on ${port}/${cport}${sport:+/$sport}; retrying with new ports"
            continue
        fi
        fail_start "$dir" "broker could not bind its ports (${port}/${cport}${sport:+/$sport})"
    done
    announce "$dir" "$port" "$sport"
}

cmd_stop() {
    local dir=$1 pid
    if ! pid=$(running_pid "$dir"); then
        rm -f "$dir/broker.pid"
        log "no broker running from $dir"
        return 0
    fi
    log "stopping broker pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local t0 t0s=$SECONDS
    t0=$(now_cs)
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS - t0s >= STOP_TIMEOUT)); then
            log "broker pid $pid still alive after ${STOP_TIMEOUT} s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.2
    done
    rm -f "$dir/broker.pid"
    log "stopped after $(since "$t0") s"
}

cmd_status() {
    local dir=$1 pid
    if pid=$(running_pid "$dir"); then
        print_bootstrap "$dir"
        return 0
    fi
    log "no broker running from $dir"
    return 1
}

main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case "$cmd" in
        fetch)   [[ $# -eq 0 ]] || usage; do_fetch; log "jars in $LIBS" ;;
        start)   local secure=no d= a
                 case "${CG_KAFKA_SECURE:-0}" in
                     1|yes|true) secure=yes ;;
                     0|no|false|"") ;;
                     *) die "CG_KAFKA_SECURE must be 1 or 0, got '$CG_KAFKA_SECURE'" ;;
                 esac
                 for a in "$@"; do
                     case "$a" in
                         --sasl-ssl) secure=yes ;;
                         -*) usage ;;
                         *) [[ -z "$d" ]] || usage; d=$a ;;
                     esac
                 done
                 cmd_start "$(resolve_dir "$d" yes)" no "$secure" ;;
        stop)    [[ $# -le 1 ]] || usage; cmd_stop "$(resolve_dir "${1:-}")" ;;
        restart) [[ $# -le 1 ]] || usage
                 local dir; dir=$(resolve_dir "${1:-}" yes)
                 cmd_stop "$dir"; cmd_start "$dir" yes ;;
        status)  [[ $# -le 1 ]] || usage; cmd_status "$(resolve_dir "${1:-}")" ;;
        -h|--help|help) usage ;;
        *) usage ;;
    esac
}

main "$@"
