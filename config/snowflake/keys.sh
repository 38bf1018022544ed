#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# keys.sh: creates the RSA key pair streamerd signs its key-pair JWTs with,
# and prints what to run in Snowflake to register the public key, plus the
# fingerprint Snowflake will show (DESC USER ... RSA_PUBLIC_KEY_FP) and
# `streamerd --check` will print — the three must be equal.
#
#   keys.sh [-u SNOWFLAKE_USER] [-o DIR] [-n NAME] [-b BITS]
#           [-p PASSPHRASE_FILE] [-O OWNER] [-f]
#   keys.sh -s PRIVATE_KEY [-u USER] [-p PASSPHRASE_FILE]   (show only)
#
# The private key is PKCS#8 PEM, mode 0600; with -p it is encrypted
# (AES-256) with the passphrase in that file, which streamerd then reads
# from `private_key_passphrase_file`. Existing keys are never overwritten
# unless -f is given.
set -eu

usage() {
	cat <<'USAGE'
usage: keys.sh [-u SNOWFLAKE_USER] [-o DIR] [-n NAME] [-b BITS]
               [-p PASSPHRASE_FILE] [-O OWNER[:GROUP]] [-f]
       keys.sh -s PRIVATE_KEY [-u SNOWFLAKE_USER] [-p PASSPHRASE_FILE]
  -u USER   Snowflake user to register the key on (default SNOWSENSE_INGEST)
  -o DIR    where to write NAME.p8 and NAME.pub (default: current directory)
  -n NAME   file name stem (default streamerd_key)
  -b BITS   RSA key size, at least 2048 (default 2048)
  -p FILE   encrypt the private key with the passphrase in FILE
  -O OWNER  chown the private key (e.g. streamerd:streamerd; needs root)
  -f        overwrite existing key files
  -s KEY    do not create anything: print the statement and fingerprint
            for an existing private key
USAGE
}

die() {
	echo "keys.sh: $*" >&2
	exit 1
}

sfuser=SNOWSENSE_INGEST dir=. name=streamerd_key bits=2048 passfile="" owner=""
force=0 show=""
while getopts u:o:n:b:p:O:fs:h opt; do
	case $opt in
	u) sfuser=$OPTARG ;;
	o) dir=$OPTARG ;;
	n) name=$OPTARG ;;
	b) bits=$OPTARG ;;
	p) passfile=$OPTARG ;;
	O) owner=$OPTARG ;;
	f) force=1 ;;
	s) show=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { usage >&2; exit 2; }
command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"
case $bits in
'' | *[!0-9]*) die "-b $bits: not a number" ;;
esac
[ "$bits" -ge 2048 ] || die "-b $bits: Snowflake needs at least 2048 bits"
if [ -n "$passfile" ]; then
	[ -r "$passfile" ] || die "$passfile: cannot read the passphrase file"
	[ -s "$passfile" ] || die "$passfile: passphrase file is empty"
fi

# Prints the registration statement and the fingerprint of private key $1.
show_key() {
	if [ -n "$passfile" ]; then
		set -- "$1" -passin "file:$passfile"
	fi
	pub=$(openssl pkey -in "$@" -pubout 2>/dev/null) ||
		die "$1: cannot read the private key (wrong passphrase file?)"
	body=$(printf '%s\n' "$pub" | sed '/^-----/d' | tr -d '\n')
	fp=$(printf '%s\n' "$pub" | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -binary | openssl base64 -A)
	echo "-- Register the public key (run in Snowflake as a user administrator):"
	echo "ALTER USER $sfuser SET RSA_PUBLIC_KEY='$body';"
	echo "-- Then DESC USER $sfuser; must show RSA_PUBLIC_KEY_FP = SHA256:$fp"
	echo "SHA256:$fp"
}

if [ -n "$show" ]; then
	show_key "$show"
	exit 0
fi

key=$dir/$name.p8 pub=$dir/$name.pub
if [ $force -eq 0 ]; then
	for f in "$key" "$pub"; do
		[ ! -e "$f" ] || die "$f exists; use -f to replace it (and re-register the key)"
	done
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
key=$dir/$name.p8 pub=$dir/$name.pub
tmp=$(mktemp "$dir/.$name.XXXXXX")
trap 'rm -f "$tmp"' EXIT INT TERM
# umask first: the key must never exist on disk with looser permissions.
(
	umask 077
	if [ -n "$passfile" ]; then
		openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" 2>/dev/null |
			openssl pkcs8 -topk8 -v2 aes-256-cbc -passout "file:$passfile" -out "$tmp"
	else
		openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" 2>/dev/null |
			openssl pkcs8 -topk8 -nocrypt -out "$tmp"
	fi
) || die "openssl failed to create the key"
chmod 0600 "$tmp"
if [ -n "$passfile" ]; then
	openssl pkey -in "$tmp" -passin "file:$passfile" -pubout -out "$pub.tmp"
else
	openssl pkey -in "$tmp" -pubout -out "$pub.tmp"
fi
chmod 0644 "$pub.tmp"
mv -f "$pub.tmp" "$pub"
mv -f "$tmp" "$key"
trap - EXIT INT TERM
if [ -n "$owner" ]; then
	chown "$owner" "$key" || die "chown $owner $key failed (run as root)"
fi
echo "wrote $key (private, mode 0600) and $pub" >&2
echo "streamerd.json: \"private_key_file\": \"$key\"" >&2
show_key "$key"
