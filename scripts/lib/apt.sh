# Sourced by the scripts that install Debian packages (services.sh,
# tools/kube.sh): messages under the caller's name ($SAY_AS), and apt-get as
# root or through passwordless sudo, with one `apt-get update` per run.

export DEBIAN_FRONTEND=noninteractive

say() { printf '%s: %s\n' "$SAY_AS" "$*" >&2; }
die() { say "error: $*"; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
fi
as_root() {
    if [ "$(id -u)" -eq 0 ] || [ "${#SUDO[@]}" -gt 0 ]; then
        "${SUDO[@]}" "$@"
    else
        die "'$*' needs root; run it as root or install sudo"
    fi
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get not found: install $* with this system's package manager"
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        as_root apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    say "installing $*"
    as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
