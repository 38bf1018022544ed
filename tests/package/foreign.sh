#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# foreign.sh: a cross-built snowsense package's programs start on their
# architecture. Unpacks the .deb (nothing is installed) and runs each
# program's --version under qemu-user (which runs nothing but that
# architecture's binaries), with the target's libraries from the multiarch
# packages `make deps-cross ARCH=...` installed: the binaries are for the
# package's architecture, find the libraries they link, and report the
# package's version.
#
#   tests/package/foreign.sh build-deb/snowsense_VERSION_ARCH.deb
set -u
[ $# -eq 1 ] || { echo "usage: tests/package/foreign.sh PATH/TO/snowsense_VERSION_ARCH.deb"; exit 2; }
deb=$1
arch=$(dpkg-deb -f "$deb" Architecture) || exit 2
version=$(dpkg-deb -f "$deb" Version) || exit 2
case $arch in
arm64) qemu="qemu-aarch64" ;;
armhf) qemu="qemu-arm" ;;
*) echo "foreign.sh: no qemu-user for $arch here"; exit 2 ;;
esac
command -v $qemu >/dev/null 2>&1 || { echo "$qemu not installed (make deps-cross ARCH=$arch)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp" || exit 1
fails=0
for p in usr/sbin/sensord usr/sbin/streamerd usr/bin/sensortap; do
	name=$(basename $p)
	out=$($qemu "$tmp/$p" --version 2>&1)
	if [ "$out" = "$name $version" ]; then
		echo "$arch $p: $out"
	else
		echo "FAIL: $qemu $p --version: $out"
		fails=$((fails + 1))
	fi
done
[ $fails -eq 0 ] || exit 1
echo "$(basename "$deb"): programs run under $qemu"
