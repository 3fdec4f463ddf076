#!/usr/bin/env bash
# What the test suite drives besides Python, installed when missing (`make test` runs this
# first; `.ci/run` only calls `make test`). Quiet, and quick, when everything is there.
#   Debian packages: tmux (terminal end-to-end tests), faketime (the weekday/timezone matrix),
#     prometheus (promtool), prometheus-node-exporter, prometheus-alertmanager (monitoring
#     tests), systemd (systemd-analyze verify of the generated units), systemd-container
#     (systemd-nspawn boots a real systemd to start the generated unit in).
#   Debian 12's rclone 1.60.1, the floor of the supported range (docs/install.md): fetched
#     with `apt-get download` and unpacked with `dpkg -x` into .cache/rclone-debian/, never
#     installed and never on PATH. The version matrix tests run it by absolute path.
# Not root and something missing: stop at once with the one command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_DIR=.cache/rclone-debian
DEB_RCLONE="$DEB_DIR/root/usr/bin/rclone"
DEB_VERSION=v1.60.1

packages=()
command -v tmux >/dev/null 2>&1 || packages+=(tmux)
command -v faketime >/dev/null 2>&1 || packages+=(faketime)
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
command -v prometheus-node-exporter >/dev/null 2>&1 || packages+=(prometheus-node-exporter)
command -v prometheus-alertmanager >/dev/null 2>&1 || packages+=(prometheus-alertmanager)
command -v systemd-analyze >/dev/null 2>&1 || packages+=(systemd)
command -v systemd-nspawn >/dev/null 2>&1 || packages+=(systemd-container)
# The first line read whole, then matched: `version | head -1 | grep -q` under pipefail
# fails when grep exits first and the writer gets SIGPIPE.
deb_version() { "$DEB_RCLONE" version 2>/dev/null | sed -n 1p || true; }
need_deb=0
case "$(deb_version)" in
    "rclone $DEB_VERSION"*) ;;
    *) need_deb=1 ;;
esac

if [ ${#packages[@]} -eq 0 ] && [ $need_deb -eq 0 ]; then
    exit 0
fi

what="${packages[*]}"
[ $need_deb -eq 1 ] && what="$what${what:+, }Debian's rclone $DEB_VERSION (.deb, unpacked in $DEB_DIR)"
if [ "$(id -u)" -ne 0 ]; then
    echo "make test: missing $what; install them once, as root:" >&2
    echo "    sudo make test-deps" >&2
    exit 1
fi

echo "make test: installing $what" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ ${#packages[@]} -gt 0 ]; then
    apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${packages[@]}" >/dev/null
fi
if [ $need_deb -eq 1 ]; then
    rm -rf "$DEB_DIR"
    mkdir -p "$DEB_DIR"
    # Downloaded as root into a folder _apt cannot enter: say so instead of warning.
    (cd "$DEB_DIR" && apt-get download -qq -o APT::Sandbox::User=root rclone >/dev/null)
    dpkg -x "$DEB_DIR"/rclone_*.deb "$DEB_DIR/root"
    case "$(deb_version)" in
        "rclone $DEB_VERSION"*) ;;
        *) echo "make test: $DEB_DIR holds $(deb_version), not rclone $DEB_VERSION" \
                "(Debian 12's); the version matrix needs that one" >&2
           exit 1 ;;
    esac
fi
