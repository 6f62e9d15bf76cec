#!/bin/sh
# build.sh OUTPUT_PATH GOCACHE_DIR    builds the launcher
# build.sh --test GOCACHE_DIR         runs its Go unit tests (go test)
# Builds vsphere-sim with Debian's Go in GOPATH mode against Debian's
# golang-github-vmware-govmomi-dev (/usr/share/gocode), without network.
# GO names the go command (default: go).
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 OUTPUT_PATH|--test GOCACHE_DIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
out=$1
cache=$(realpath -m "$2")
mkdir -p "$cache"
[ "$out" = --test ] || { out=$(realpath -m "$out"); mkdir -p "$(dirname "$out")"; }

gopath=/usr/share/gocode
if [ ! -d "$gopath/src/github.com/vmware/govmomi/simulator" ]; then
	echo "$0: $gopath/src/github.com/vmware/govmomi/simulator is missing;" \
		"install golang-github-vmware-govmomi-dev" >&2
	exit 1
fi

# Go wants a writable home for its settings; keep it out of the user's.
if [ -z "${HOME:-}" ] || [ ! -w "$HOME" ]; then
	HOME=$cache/home
	mkdir -p "$HOME"
	export HOME
fi
unset GOFLAGS GOROOT GOBIN GOENV GOEXPERIMENT
export GO111MODULE=off GOPATH="$gopath" GOCACHE="$cache" GOPROXY=off \
	GONOSUMDB= GOSUMDB=off GOTOOLCHAIN=local GOTELEMETRY=off

cd "$here"
if [ "$out" = --test ]; then
	exec "${GO:-go}" test .
fi
exec "${GO:-go}" build -o "$out" .
