#!/usr/bin/env bash
# build_image.sh - build the contactgate container image with podman (deploy/container/Containerfile).
#
#   deploy/container/build_image.sh [--tag IMAGE] [--base IMAGE] [--jobs N]
#
#   --tag   the image to make (default localhost/contactgate:<version>-<git short hash>;
#           it is also tagged localhost/contactgate:latest)
#   --base  the Debian bookworm base image. Default: debian:bookworm-slim when it is already
#           present in podman's store, else a local image made from Debian's packages with
#           debootstrap (localhost/bookworm-base:minbase), for machines without a registry.
#   --jobs  compile jobs inside the build (default 2)
#
# Prints the image name on stdout (last line). Needs podman and runc (apt-get install podman
# runc), and debootstrap for the local base; run as root. On machines whose crun cannot run
# containers (cgroup v1 hybrid), this script uses runc and a containers.conf without default
# ulimits: deploy/container/README.md. Knobs: CG_CACHE_DIR (default ~/.cache/contactgate),
# CG_PODMAN_RUNTIME (default runc), CG_BUILD_CA_FILE (CA bundle for pip in the build, default
# /etc/ssl/certs/ca-certificates.crt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${CG_CACHE_DIR:-$HOME/.cache/contactgate}
log() { printf 'build_image: %s\n' "$*" >&2; }
die() { printf 'build_image: error: %s\n' "$*" >&2; exit 1; }

tag="" base="" jobs=2
while [[ $# -gt 0 ]]; do
    case "$1" in
        --tag) tag=$2; shift 2 ;;
        --base) base=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done

command -v podman >/dev/null || die "podman not found: apt-get install podman runc"
# shellcheck source=deploy/container/podman_env.sh
source "$here/podman_env.sh"

# A bookworm base image from Debian's own packages (no registry needed), cached as a tarball
# under $cache so CI machines debootstrap once.
local_base() {
    local image=localhost/bookworm-base:minbase tarball="$cache/bookworm-minbase.tar"
    if cg_podman image exists "$image"; then echo "$image"; return; fi
    if [[ ! -s "$tarball" ]]; then
        command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
        local mirror dir
        mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -1)
        mirror=${mirror:-http://deb.debian.org/debian}
        dir=$(mktemp -d /tmp/cg-debootstrap.XXXXXX)
        log "debootstrap --variant=minbase bookworm from $mirror (about a minute, once)"
        debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.log" 2>&1 ||
            { tail -20 "$dir.log" >&2; die "debootstrap failed (log: $dir.log)"; }
        # Like debian:bookworm-slim: Debian's sources with security updates, no docs, man
        # pages or locales, no package caches.
        rm -f "$dir/etc/apt/sources.list"
        cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        cat >"$dir/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
        printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$dir/etc/apt/apt.conf.d/docker-no-recommends"
        find "$dir/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
        rm -rf "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/* \
            "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log
        mkdir -p "$cache"
        tar --numeric-owner -C "$dir" -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "$dir" "$dir.log"
    fi
    cg_podman import --change 'CMD ["bash"]' "$tarball" "$image" >/dev/null
    log "imported $tarball as $image"
    echo "$image"
}

if [[ -z "$base" ]]; then
    if cg_podman image exists docker.io/library/debian:bookworm-slim; then
        base=docker.io/library/debian:bookworm-slim
    else
        base=$(local_base)
    fi
fi

version=$(sed -n 's/^project(contactgate VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo local)
[[ -n "$(git -C "$root" status --porcelain 2>/dev/null)" ]] && rev="$rev-dirty"
tag=${tag:-localhost/contactgate:$version-$rev}

# pip in the build fetches the pinned phonenumbers wheel over TLS: hand the build this
# machine's CA bundle (it may hold a proxy's CA) as a secret, not a layer.
ca=${CG_BUILD_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}
secret=()
[[ -s "$ca" ]] && secret=(--secret "id=cabundle,src=$ca")

log "building $tag from base $base (context $root, $jobs jobs)"
cg_podman build --network host --layers \
    --build-arg "BASE=$base" --build-arg "JOBS=$jobs" "${secret[@]}" \
    --ignorefile "$here/Containerfile.dockerignore" \
    -f "$here/Containerfile" -t "$tag" -t localhost/contactgate:latest "$root" >&2
echo "$tag"
