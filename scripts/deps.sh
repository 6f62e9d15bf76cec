#!/usr/bin/env bash
# Installs the Debian packages ferry needs to build, test and benchmark.
# Idempotent: installs only what is missing, runs apt-get update at most once.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build
  libnbd-dev libnbd-bin nbdkit qemu-utils qemu-system-x86
  libjson-c-dev libssl-dev libcurl4-openssl-dev libxml2-dev
  golang-go golang-github-vmware-govmomi-dev
  python3 python3-pytest python3-mypy  # mypy: tests/python/test_py_typing.py
  clang libclang-rt-14-dev
  time fio  # fio: the benchmark's disk limit (bench/bench.py)
  debootstrap fdisk e2fsprogs  # the test guest (tests/guest/build.sh)
  libguestfs-dev linux-image-amd64  # guest conversion (its appliance boots a kernel)
  libhivex-dev  # Windows guests: their SYSTEM hive edited
  perl  # pod2man: the man pages
  virt-v2v  # the conversion benchmark's peer (bench/convert.sh)
  libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  iproute2  # the libvirt platform; its tests run a private libvirtd
  libiscsi-dev  # the ELF platform's data path: its volumes are iSCSI LUNs
  tgt qemu-block-extra python3-jsonschema openssl  # the fake CloudTower's
  # iSCSI target, qemu's iscsi driver, its spec checks, its certificate
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
