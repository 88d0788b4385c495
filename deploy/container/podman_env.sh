# podman_env.sh - sourced by build_image.sh and the container test: runs podman the way it
# works on this project's machines (Debian's podman 4.3 with runc; crun fails on cgroup v1
# hybrid hosts with "setrlimit RLIMIT_NOFILE" / "cgroups in hybrid mode not supported").
# Defines cg_podman. Elsewhere plain `podman` (or docker) works with the same arguments.
_cg_cache=${CG_CACHE_DIR:-$HOME/.cache/contactgate}
if [[ -z "${CONTAINERS_CONF:-}" ]]; then
    mkdir -p "$_cg_cache"
    printf '[containers]\ndefault_ulimits = []\n' >"$_cg_cache/containers.conf"
    export CONTAINERS_CONF="$_cg_cache/containers.conf"
fi
cg_podman() { podman --runtime "${CG_PODMAN_RUNTIME:-runc}" "$@"; }
