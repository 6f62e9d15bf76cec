# Sourced by demo.sh and bench/migrate.sh: a private work dir for local
# qemu platforms, removed at exit with every VM still running in it.
# Short, under /tmp: QEMU's monitor sockets live under the state dirs.
work=$(mktemp -d "/tmp/${1:-fw}.XXXXXX")
workdir_cleanup() {
  for pid in "$work"/*/run/*/qemu.pid; do
    [ -f "$pid" ] && kill -9 "$(cat "$pid")" 2>/dev/null
  done
  rm -rf "$work"
}
trap workdir_cleanup EXIT
