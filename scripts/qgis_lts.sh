#!/usr/bin/env bash
# The QGIS tests (tests/qgis) on QGIS 3.40 LTR: Debian 13 (trixie)'s QGIS in a chroot.
#
#   sudo scripts/qgis_lts.sh            # or: make test-qgis-lts (root)
#   scripts/qgis_lts.sh -k plugin_load  # extra arguments go to pytest
#
# Phase 1 (once, cached): a minbase trixie root under $NTMGIS_TRIXIE (/var/tmp/ntmgis-trixie)
#   by mmdebstrap (installed on the host if missing), then Debian's QGIS inside it
#   (--no-install-recommends). A half-built root is never mistaken for a finished one.
# Phase 2 (once per pyproject.toml/setup.py): the repo bind-mounted at its own path inside
#   the root, a venv --system-site-packages at /opt/ntmgis-venv with the PyPI wheels the
#   Makefile's qgis-venv installs, and `pip install -e` of the repo.
# Phase 3: QGIS's version (Qgis.version()), then `python -m pytest tests/qgis` offscreen.
# Every mount is undone on exit (trap), the root itself stays for the next run.
# Needs root, the Debian mirror (deb.debian.org) and PyPI.
set -euo pipefail

ROOT=${NTMGIS_TRIXIE:-/var/tmp/ntmgis-trixie}
MIRROR=${NTMGIS_MIRROR:-http://deb.debian.org/debian}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=/opt/ntmgis-venv
# the brief's set, plus the qgis program (tests/qgis/test_real_qgis.py runs it under
# xvfb-run), pdftotext (the atlas tests read the PDF), lrelease (the plugin ZIP tests) and
# the CA bundle pip needs
APT=(python3-qgis qgis-providers python3-venv python3-pip xvfb xauth
    qgis poppler-utils qttools5-dev-tools ca-certificates)
PIP=(--disable-pip-version-check --only-binary :all: -q)
# trixie's QGIS 3.40 and its GDAL bindings are built against Debian's numpy 2.2: no numpy<2
# pin here (the 3.22 venv needs it), pip keeps the system's numpy when it fits
GEO=("geopandas>=1" "shapely>=2" "rasterio>=1.4" "pyproj>=3.7" "pyogrio>=0.9")
WHEELS=("attrs>=23.2" "${GEO[@]}" "pytest>=8" "hypothesis>=6.100" "pytest-qgis==${NTMGIS_PYTEST_QGIS:-5.0.2}"
    "bandit>=1.7" "flake8-qgis>=2")
NICE=(nice -n 10)

[ "$(id -u)" = 0 ] || { echo "qgis_lts.sh: needs root (chroot, mounts)" >&2; exit 1; }

T0=$SECONDS
phase() { echo "== $1: $(( SECONDS - T0 )) s"; T0=$SECONDS; }

MOUNTS=()
cleanup() {
    local i
    for (( i=${#MOUNTS[@]}-1; i>=0; i-- )); do
        umount -l "${MOUNTS[i]}" 2>/dev/null || true
    done
    MOUNTS=()
}
trap cleanup EXIT INT TERM

mnt() {  # mnt <mount args...> <target>: mount and remember for the trap
    local target=${*: -1}
    mkdir -p "$target"
    mountpoint -q "$target" && return 0
    mount "$@"
    MOUNTS+=("$target")
}

mount_all() {
    mnt -t proc proc "$ROOT/proc"
    mnt --rbind /sys "$ROOT/sys"; mount --make-rslave "$ROOT/sys"
    mnt --rbind /dev "$ROOT/dev"; mount --make-rslave "$ROOT/dev"
    mnt -t tmpfs tmpfs "$ROOT/tmp"
    mnt --bind "$REPO" "$ROOT$REPO"
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
    # the host's CA bundle: PyPI is reached through whatever the host trusts
    mkdir -p "$ROOT/usr/local/share/ntmgis"
    cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/usr/local/share/ntmgis/ca.crt"
}

in_root() {
    chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
        LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive QT_QPA_PLATFORM=offscreen \
        PIP_CERT=/usr/local/share/ntmgis/ca.crt PIP_DEFAULT_TIMEOUT=180 \
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$@"
}

# ---- phase 1: the trixie root with Debian's QGIS ---------------------------------------
if [ ! -f "$ROOT/.ntmgis-qgis" ]; then
    command -v mmdebstrap >/dev/null || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap
    }
    if [ ! -f "$ROOT/.ntmgis-base" ]; then
        # whatever is left of an interrupted run is thrown away (never while mounted)
        if [ -e "$ROOT" ]; then
            if grep -q " $ROOT/" /proc/mounts; then
                echo "qgis_lts.sh: $ROOT has mounts left, unmount them first" >&2; exit 1
            fi
            rm -rf "$ROOT"
        fi
        mkdir -p "$(dirname "$ROOT")"
        "${NICE[@]}" mmdebstrap --variant=minbase --mode=root trixie "$ROOT" "$MIRROR"
        touch "$ROOT/.ntmgis-base"
    fi
    mount_all
    in_root "${NICE[@]}" apt-get update -qq
    in_root "${NICE[@]}" apt-get install -y -qq --no-install-recommends "${APT[@]}"
    in_root apt-get clean
    touch "$ROOT/.ntmgis-qgis"
    phase "phase 1 (trixie root + QGIS)"
else
    mount_all
    phase "phase 1 (cached)"
fi

# ---- phase 2: the venv -----------------------------------------------------------------
STAMP=$(cat "$REPO/pyproject.toml" "$REPO/setup.py" | sha256sum | cut -c1-16)
if [ "$(cat "$ROOT$VENV/.installed" 2>/dev/null)" != "$STAMP" ]; then
    in_root test -x "$VENV/bin/python" || in_root python3 -m venv --system-site-packages "$VENV"
    in_root "${NICE[@]}" "$VENV/bin/pip" install "${PIP[@]}" --upgrade pip
    # trixie's python3-qgis depends on Debian's pyproj 3.7, which would satisfy ">=3.7";
    # in a venv it finds no PROJ data (it looks under sys.prefix, the venv). The geo
    # libraries come from PyPI as in the 3.22 venv: over the system's, without their deps
    in_root "${NICE[@]}" "$VENV/bin/pip" install "${PIP[@]}" --ignore-installed --no-deps "${GEO[@]}"
    in_root "${NICE[@]}" "$VENV/bin/pip" install "${PIP[@]}" "${WHEELS[@]}"
    # the repo's own package, editable (its build backend from PyPI too)
    in_root "${NICE[@]}" "$VENV/bin/pip" install "${PIP[@]}" -e "$REPO"
    echo "$STAMP" >"$ROOT$VENV/.installed"
    phase "phase 2 (venv)"
else
    phase "phase 2 (cached)"
fi

# ---- phase 3: the tests ----------------------------------------------------------------
in_root "$VENV/bin/python" -c "from qgis.core import Qgis; print('QGIS', Qgis.version())"
status=0
in_root /bin/sh -c 'cd "$1" && shift && exec nice -n 10 "$0" -m pytest tests/qgis -p no:cacheprovider "$@"' \
    "$VENV/bin/python" "$REPO" "$@" || status=$?
phase "phase 3 (tests/qgis, exit $status)"
exit $status
