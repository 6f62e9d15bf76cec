#!/usr/bin/env bash
# build.sh [uuid|dev]   prints the path of a cached test guest (qcow2)
#
# Builds a small Debian 12 BIOS guest that looks like one installed on
# VMware: MBR, one ext4 root partition, GRUB, an initramfs with VMware's
# disk drivers and no virtio, a NIC config for ens192. The variant names
# how fstab and grub.cfg find the root: uuid (UUID=...) or dev (/dev/sda1).
# At boot a unit prints one line to ttyS0 and powers off:
#   FERRY-GUEST-BOOT-OK root=<device> kernel=<version> net=<nic driver|none> vmtools=<yes|no>
#
# The image is cached in $FERRY_TEST_CACHE (default /var/cache/ferry-tests)
# under guest-<first 16 hex of sha256 of this file>/guest-<variant>.qcow2:
# everything that shapes the guest is in this file, so editing it is what
# makes a new image. Built only when missing; needs root and apt's mirror.
# Steps and their times go to stderr, the tools' logs to the build dir.
set -euo pipefail

variant=${1:-uuid}
case $variant in
  uuid|dev) ;;
  *) echo "usage: $0 [uuid|dev]" >&2; exit 2;;
esac

self=$(realpath "$0")
cache=${FERRY_TEST_CACHE:-/var/cache/ferry-tests}
key=$(sha256sum "$self" | cut -c1-16)
dir=$cache/guest-$key
out=$dir/guest-$variant.qcow2

# Fast path: the image only ever appears by rename, so if it is there it is whole.
if [ -f "$out" ]; then echo "$out"; exit 0; fi

[ "$(id -u)" -eq 0 ] || { echo "$0: building the guest needs root" >&2; exit 1; }
for t in debootstrap sfdisk partx losetup mkfs.ext4 fstrim qemu-img flock; do
  command -v "$t" >/dev/null || { echo "$0: $t is missing (scripts/deps.sh)" >&2; exit 1; }
done

SUITE=bookworm
SIZE=1G
# What a guest installed on VMware needs to find its disk: pvscsi, LSI Logic
# parallel and SAS, SATA and IDE; and the root filesystem.
INITRD_MODULES="vmw_pvscsi mptspi mptsas ahci ata_piix sd_mod ext4 crc32c_generic"

t0=$SECONDS
step() { echo "guest[$variant] $((SECONDS - t0))s: $*" >&2; }

# The mirror apt already uses, read from its sources (deb822 and one-line).
apt_sources() { # prints "URI SUITE" for each enabled binary source
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush(  n, m, i, j, u, s) {
           if (types ~ /(^| )deb( |$)/ && enabled != "no") {
             n = split(uris, u, " "); m = split(suites, s, " ")
             for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j]
           }
           types = uris = suites = ""; enabled = "yes"
         }
         BEGIN { enabled = "yes" }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         { k = tolower($0); sub(/:.*/, "", k); v = $0; sub(/^[^:]*:[ \t]*/, "", v)
           if (k == "types") types = v; else if (k == "uris") uris = v
           else if (k == "suites") suites = v; else if (k == "enabled") enabled = tolower(v) }
         END { flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                       print $i, $(i + 1) }' "$f"
  done
}
sources=$(apt_sources)
uri_for() { awk -v s="$1" '$2 == s { print $1; exit }' <<<"$sources"; }
mirror=$(uri_for "$SUITE")
[ -n "$mirror" ] || mirror=$(awk '$2 !~ /-security$/ { print $1; exit }' <<<"$sources")
[ -n "$mirror" ] || { echo "$0: no Debian mirror in apt's sources" >&2; exit 1; }

mkdir -p "$dir" "$cache/debootstrap" "$cache/apt-archives"
# One build at a time on the machine: both variants share the package caches.
exec 9>"$cache/guest.lock"
if ! flock -n 9; then
  step "waiting for another build (lock $cache/guest.lock)"
  flock 9
fi
if [ -f "$out" ]; then echo "$out"; exit 0; fi

# Leftovers of builds that were killed (we hold the lock, so nobody owns
# them): their mounts, loop devices and files.
for old in "$cache"/guest-*/.build-*; do
  [ -d "$old" ] || continue
  findmnt -rn -o TARGET | grep -F "$old/" | sort -r | xargs -r -n1 umount -l || true
  for l in $(losetup -n -O NAME -j "$old/disk.raw" 2>/dev/null); do losetup -d "$l" || true; done
  rm -rf "$old"
done

work=$(mktemp -d "$dir/.build-$variant.XXXXXX")
raw=$work/disk.raw
mnt=$work/root
mkdir "$mnt"
loop=
child=
done_ok=0
cleanup() {
  set +e
  if [ -n "$child" ]; then kill -TERM -- "-$child" 2>/dev/null; wait "$child"; fi
  findmnt -rn -o TARGET | grep -F "$mnt" | sort -r | xargs -r -n1 umount -l
  [ -n "$loop" ] && losetup -d "$loop"
  if [ "$done_ok" = 1 ]; then
    rm -rf "$work"
  else
    # Keep the logs of a failed build, not its disk.
    rm -rf "$dir/failed-$variant"
    rm -f "$raw" "$work/guest.qcow2"
    rmdir "$mnt" 2>/dev/null
    mv "$work" "$dir/failed-$variant" && echo "guest[$variant]: failed; logs in $dir/failed-$variant" >&2
  fi
}
trap cleanup EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
# Runs a step's tool with its full output in the build dir, the tail shown on
# failure. In its own process group, in the background: a signal then stops
# the wait at once and cleanup can end the whole step (dpkg, postinsts...).
logged() { # logged NAME CMD...
  local rc=0
  setsid "${@:2}" >>"$work/$1.log" 2>&1 </dev/null &
  child=$!
  wait "$child" || rc=$?
  child=
  if [ "$rc" -ne 0 ]; then
    tail -20 "$work/$1.log" >&2
    echo "guest[$variant]: step $1 failed (exit $rc); see $work/$1.log" >&2
    return 1
  fi
}

step "disk: $SIZE sparse raw, MBR, one bootable partition (mirror $mirror)"
truncate -s "$SIZE" "$raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$raw"
loop=$(losetup -f --show -P "$raw")
part=${loop}p1
# In containers the partition scan of losetup -P may not happen: ask for it
# (the kernel's view, in /sys; a node in /dev could be stale).
[ -e "/sys/class/block/${part##*/}" ] || partx -a "$loop"
for _ in $(seq 50); do [ -b "$part" ] && break; sleep 0.1; done
[ -b "$part" ] || { echo "$0: no partition node $part" >&2; exit 1; }
uuid=$(cat /proc/sys/kernel/random/uuid)
mkfs.ext4 -q -L root -U "$uuid" "$part"
mount "$part" "$mnt"

step "debootstrap --variant=minbase $SUITE"
include=systemd-sysv,udev,kmod,e2fsprogs,util-linux
case $mirror in https:*) include=$include,ca-certificates;; esac
logged debootstrap debootstrap --variant=minbase --cache-dir="$cache/debootstrap" \
  --include="$include" "$SUITE" "$mnt" "$mirror"

mount -t proc proc "$mnt/proc"
mount -t sysfs sys "$mnt/sys"
mount --bind /dev "$mnt/dev"
mount --bind /dev/pts "$mnt/dev/pts"

# The guest's apt gets the same suites the host uses for this release.
: >"$mnt/etc/apt/sources.list"
for s in "$SUITE" "$SUITE-updates" "$SUITE-security"; do
  u=$(uri_for "$s")
  if [ -n "$u" ]; then echo "deb $u $s main" >>"$mnt/etc/apt/sources.list"; fi
done
[ -s "$mnt/etc/apt/sources.list" ] || echo "deb $mirror $SUITE main" >"$mnt/etc/apt/sources.list"

if [ "$variant" = dev ]; then rootspec=/dev/sda1; else rootspec=UUID=$uuid; fi
printf '# <file system> <mount point> <type> <options> <dump> <pass>\n%s / ext4 errors=remount-ro 0 1\n' \
  "$rootspec" >"$mnt/etc/fstab"
echo vmguest >"$mnt/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tvmguest\n' >"$mnt/etc/hosts"

# Before the kernel, so its postinst builds the small initramfs only once.
# MODULES=list holds exactly the list, as MODULES=dep would on VMware.
mkdir -p "$mnt/etc/initramfs-tools/conf.d"
echo MODULES=list >"$mnt/etc/initramfs-tools/conf.d/vmware.conf"
{ echo "# VMware disk controllers and the root filesystem"; tr ' ' '\n' <<<"$INITRD_MODULES"; } \
  >"$mnt/etc/initramfs-tools/modules"

step "apt: linux-image-amd64, initramfs-tools, grub-pc, open-vm-tools"
# apt's downloads live outside the image so the next build reuses them.
mount --bind "$cache/apt-archives" "$mnt/var/cache/apt/archives"
logged apt chroot "$mnt" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  apt-get -q update
logged apt chroot "$mnt" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  apt-get -q -y --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  install linux-image-amd64 initramfs-tools grub-pc open-vm-tools
umount "$mnt/var/cache/apt/archives"
kver=$(ls "$mnt/lib/modules" | sort -V | tail -1)

step "prune kernel modules a VM never loads ($kver)"
# Halves /lib/modules. Kept: storage, virtio, the NICs qemu and VMware offer,
# filesystems a root could be on; what a conversion would need is all there.
k=$mnt/lib/modules/$kver/kernel
rm -rf "$k/sound" "$k/net/wireless" "$k/net/mac80211" "$k/net/bluetooth" \
  "$k/net/nfc" "$k/net/ieee802154" "$k/fs/ocfs2" "$k/fs/gfs2" "$k/fs/ceph" "$k/fs/smb" \
  "$k"/drivers/{gpu,media,infiniband,iio,staging,comedi,isdn,bluetooth,mtd,hwmon,usb,nfc} \
  "$k"/drivers/{input/touchscreen,input/joystick,input/tablet,video/fbdev,net/can,net/wwan} \
  "$k"/drivers/net/{wireless,usb,ieee802154,hamradio} \
  "$k"/drivers/scsi/{qla2xxx,qla4xxx,lpfc,bfa,be2iscsi,qedi,qedf,csiostor,fnic,mpi3mr,megaraid,smartpqi,aacraid,bnx2fc,bnx2i,cxgbi,pm8001,isci,mvsas,elx,snic}
find "$k/drivers/net/ethernet" -mindepth 1 -maxdepth 1 ! -name intel -exec rm -rf {} +
chroot "$mnt" depmod -a "$kver"

step "guest config: GRUB on ttyS0, networkd for ens192, marker unit"
# GRUB: serial console, no menu. The dev variant names the root the way an
# installer did before UUIDs (update-grub keeps /dev/sdX with this setting).
cat >"$mnt/etc/default/grub" <<'EOF'
GRUB_DEFAULT=0
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=ttyS0,115200n8"
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
EOF
[ "$variant" = uuid ] || echo GRUB_DISABLE_LINUX_UUID=true >>"$mnt/etc/default/grub"

# VMware puts the first vmxnet3 in PCI slot 192: udev names it ens192.
mkdir -p "$mnt/etc/systemd/network"
printf '[Match]\nName=ens192\n\n[Network]\nDHCP=yes\n' >"$mnt/etc/systemd/network/10-ens192.network"
chroot "$mnt" systemctl enable systemd-networkd.service >/dev/null 2>&1

cat >"$mnt/usr/local/sbin/ferry-boot-marker" <<'EOF'
#!/bin/sh
# Tells the host how this boot went, on ttyS0, then powers off.
# Coldplug loads the NIC drivers asynchronously: let udev finish first.
udevadm settle --timeout=60 || true
root=$(findmnt -no SOURCE /)
net=none
for n in /sys/class/net/*; do
  [ -e "$n/device/driver" ] || continue
  net=$(basename "$(readlink -f "$n/device/driver")")
  break
done
vmtools=no
[ -x /usr/bin/vmtoolsd ] && vmtools=yes
line="FERRY-GUEST-BOOT-OK root=$root kernel=$(uname -r) net=$net vmtools=$vmtools"
# Its own line, whatever the console was printing.
printf '\n%s\n' "$line" >/dev/ttyS0
echo "$line" >/dev/kmsg
systemctl --no-block poweroff
EOF
chmod 755 "$mnt/usr/local/sbin/ferry-boot-marker"
cat >"$mnt/etc/systemd/system/ferry-boot-marker.service" <<'EOF'
[Unit]
Description=ferry test guest: boot marker on ttyS0, then power off
After=local-fs.target systemd-udev-trigger.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/ferry-boot-marker

[Install]
WantedBy=multi-user.target
EOF
chroot "$mnt" systemctl enable ferry-boot-marker.service >/dev/null 2>&1

step "initramfs (MODULES=list, no virtio), GRUB to the MBR"
logged initramfs chroot "$mnt" update-initramfs -u -k all
logged grub chroot "$mnt" grub-install --target=i386-pc "$loop"
logged grub chroot "$mnt" update-grub
# With no udev in the chroot there is no /dev/disk/by-uuid, so 10_linux
# wrote root=/dev/loopNp1: put back what an installer would have written.
if [ "$variant" = dev ]; then kroot=/dev/sda1; else kroot=UUID=$uuid; fi
sed -i -E "/^\s*linux\s/ s#root=[^ ]+#root=$kroot#" "$mnt/boot/grub/grub.cfg"
if ! grep -Eq "^\s*linux\s.* root=$kroot " "$mnt/boot/grub/grub.cfg" ||
   grep -E '^\s*linux\s' "$mnt/boot/grub/grub.cfg" | grep -vq "root=$kroot "; then
  echo "$0: grub.cfg has a linux line without root=$kroot" >&2; exit 1
fi
chroot "$mnt" lsinitramfs "/boot/initrd.img-$kver" | grep '\.ko' | sed 's,.*/,,' | sort \
  >"$work/initrd-modules.txt"
for m in vmw_pvscsi mptsas mptspi ahci ata_piix sd_mod; do
  grep -qx "$m.ko" "$work/initrd-modules.txt" || { echo "$0: $m is not in the initramfs" >&2; exit 1; }
done
if grep -q virtio "$work/initrd-modules.txt"; then
  echo "$0: the initramfs holds virtio: $(grep virtio "$work/initrd-modules.txt" | tr '\n' ' ')" >&2
  exit 1
fi

step "slim down, trim, detach"
chroot "$mnt" sh -c 'apt-get clean; rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \
  /usr/share/info/* /var/cache/debconf/*-old /var/log/*.log /var/log/apt/*'
find "$mnt/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name locale.alias -exec rm -rf {} +
# A fresh machine-id at first boot, as a cloned template would get.
: >"$mnt/etc/machine-id"
used=$(df -m --output=used "$mnt" | tail -1 | tr -d ' ')
for m in dev/pts dev sys proc; do umount "$mnt/$m"; done
# sync first: ext4 does not trim blocks freed in a transaction not yet committed.
sync
fstrim "$mnt"
umount "$mnt"
losetup -d "$loop"
loop=

step "qcow2 (compressed)"
logged convert qemu-img convert -c -O qcow2 "$raw" "$work/guest.qcow2"
alloc=$(du -m "$raw" | cut -f1)
size=$(du -m --apparent-size "$work/guest.qcow2" | cut -f1)
printf 'variant=%s kernel=%s root_uuid=%s rootspec=%s used=%sMiB raw_allocated=%sMiB qcow2=%sMiB build=%ss\n' \
  "$variant" "$kver" "$uuid" "$rootspec" "$used" "$alloc" "$size" "$((SECONDS - t0))" >"$work/info.txt"
cat "$work/info.txt" >&2
# Logs and facts beside the image, then the image itself, by rename.
rm -rf "$dir/logs-$variant" "$dir/failed-$variant"
mkdir "$dir/logs-$variant"
mv "$work"/*.log "$work"/*.txt "$dir/logs-$variant/"
mv "$work/guest.qcow2" "$out"
done_ok=1
step "done: $out"
echo "$out"
