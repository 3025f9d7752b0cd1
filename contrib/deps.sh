#!/bin/sh
# contrib/deps.sh: install the Debian 12 packages pp needs to build and test.
# Run it as root, or as a user who may use sudo.  It installs only what is
# missing, runs apt-get update only when it must, and exits 0 once every
# package is installed.
set -eu

# The packages pp needs today.  Later work adds to this list; what it is
# expected to add is below, commented out.
PACKAGES="gcc make pkg-config protobuf-c-compiler libprotobuf-c-dev
	libgraphviz-dev zlib1g-dev golang-go perl libdw-dev libunwind-dev
	g++ binutils
	libdb-dev libarchive-dev libcurl4-openssl-dev libsodium-dev
	libjansson-dev libhttp-parser-dev openbsd-inetd curl liblzma-dev libzstd-dev"
# The web pages' browser test (t/t0370) drives headless Chromium.
PACKAGES="$PACKAGES chromium chromium-driver"
# t/t0310 counts the store's transactions with db5.3_stat.
PACKAGES="$PACKAGES db5.3-util"

# make bench also runs what pp is compared with: pprof's -svg needs dot.
if [ "${1:-}" = --bench ]; then
	PACKAGES="$PACKAGES graphviz time google-perftools libgoogle-perftools-dev
		heaptrack linux-perf"
fi

# make fuzz builds libpp and the fuzz targets with clang's libFuzzer, ASan
# and UBSan; clang-14's runtimes are in libclang-rt-14-dev.
if [ "${1:-}" = --fuzz ]; then
	PACKAGES="$PACKAGES clang-14 libclang-rt-14-dev"
fi

missing=
for p in $PACKAGES; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || s=
	[ "$s" = installed ] || missing="$missing $p"
done
missing=${missing# }
if [ -z "$missing" ]; then
	echo "deps.sh: all packages are installed"
	exit 0
fi

command="apt-get install -y --no-install-recommends $missing"
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: cannot find apt-get; install these Debian packages: $missing" >&2
	exit 1
fi
if [ "$(id -u)" = 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "deps.sh: not root and no sudo; as root, run:" >&2
	echo "	apt-get update && $command" >&2
	exit 1
fi

update() {
	echo "deps.sh: apt-get update"
	$sudo apt-get update || {
		echo "deps.sh: apt-get update failed" >&2
		exit 1
	}
}

apt_install() {
	echo "deps.sh: $command"
	$sudo env DEBIAN_FRONTEND=noninteractive $command
}

have_lists=
for f in /var/lib/apt/lists/*_Packages*; do
	[ -e "$f" ] && have_lists=1
done
[ -n "$have_lists" ] || update
if ! apt_install; then
	if [ -n "$have_lists" ]; then
		echo "deps.sh: apt-get install failed; updating the package lists and trying again" >&2
		update
		apt_install && exit 0
	fi
	echo "deps.sh: apt-get install failed" >&2
	exit 1
fi
