#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# streamerd's start-up refusals, each with its own message and exit code:
# usage errors (2); config errors (a sensord_user that does not exist among
# them), loose or foreign credential files, bad or encrypted-without-
# passphrase keys (3); -n accepts a good config (0); no message ever echoes
# the PAT or the passphrase. Needs no network.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd openssl
SD=$STREAMERD_BIN
need_built "$SD"
PAT=pat-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
watch_log "$T/out"	# the last streamerd run's output

# expect CODE PATTERN streamerd-args...: exit status and a message line.
expect() {
	code=$1 pat=$2
	shift 2
	"$SD" "$@" >"$T/out" 2>&1
	rc=$?
	[ $rc -eq "$code" ] || fail "streamerd $*: exit $rc, expected $code"
	grep -q -- "$pat" "$T/out" || fail "streamerd $*: no '$pat' in the output"
	! grep -qF "$PAT" "$T/out" || fail "streamerd $*: the PAT was echoed"
	! grep -q "horse" "$T/out" || fail "streamerd $*: the passphrase was echoed"
}

conf() {	# conf FILE JSON-members: a config with the common keys
	printf '{ "database": "DEMO_DB", "schema": "DEMO_SCHEMA", "pipe": "P",\n  "account_url": "https://127.0.0.1:1", "socket": "%s/s.sock", "sensord_user": "%s", %s }\n' "$T" "$RUN_USER" "$2" > "$1"
	chmod 600 "$1"
}

openssl genrsa -out "$T/key.p8" 2048 2>/dev/null || fail "openssl"
chmod 600 "$T/key.p8"
printf 'horse staple\n' > "$T/pass"
chmod 600 "$T/pass"
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$T/key.p8" -out "$T/enc.p8" -passout file:"$T/pass" 2>/dev/null
chmod 600 "$T/enc.p8"

# usage
expect 2 "usage: streamerd" --bogus
expect 2 "batch-size" --batch-size ten
expect 2 "flush-interval" --flush-interval -1
expect 2 "exclude each other" --check --drop-channel
expect 0 "usage: streamerd" --help
expect 0 "streamerd [0-9]" --version

# config files
expect 3 "No such file\|cannot\|missing" -n -f "$T/none.json"
printf '{ "database": ' > "$T/broken.json"
expect 3 "broken.json" -n -f "$T/broken.json"
conf "$T/unknown.json" "\"pat\": \"$PAT\", \"colour\": \"red\""
expect 3 '"colour"' -n -f "$T/unknown.json"
conf "$T/both.json" "\"pat\": \"$PAT\", \"private_key_file\": \"$T/key.p8\", \"user\": \"u\", \"account\": \"a\""
expect 3 "exactly one of" -n -f "$T/both.json"
conf "$T/nouser.json" "\"private_key_file\": \"$T/key.p8\", \"account\": \"a\""
expect 3 'needs "user"' -n -f "$T/nouser.json"
printf '{ "database": "D", "schema": "S", "account": "a", "pat": "%s" }\n' "$PAT" > "$T/nopipe.json"
chmod 600 "$T/nopipe.json"
expect 3 '"table"' -n -f "$T/nopipe.json"
conf "$T/http.json" "\"pat\": \"$PAT\", \"url\": \"x\""
sed -i 's|"account_url": "https://127.0.0.1:1"|"account_url": "http://127.0.0.1:1"|' "$T/http.json"
expect 3 "account_url" -n -f "$T/http.json"
conf "$T/rows.json" "\"pat\": \"$PAT\", \"batch_max_rows\": 0"
expect 3 "batch_max_rows" -n -f "$T/rows.json"
conf "$T/comp.json" "\"pat\": \"$PAT\", \"compression\": \"lz4\""
expect 3 "compression" -n -f "$T/comp.json"
printf '{ "database": "D", "schema": "S", "pipe": "P", "account_url": "https://127.0.0.1:1", "pat": "%s", "sensord_user": "no-such-user-%s" }\n' "$PAT" "$$" > "$T/nosensord.json"
chmod 600 "$T/nosensord.json"
expect 3 "\"sensord_user\": user \"no-such-user-$$\" does not exist" -n -f "$T/nosensord.json"

# credential files
conf "$T/pat.json" "\"pat\": \"$PAT\""
chmod 644 "$T/pat.json"
expect 3 "chmod 600 $T/pat.json" -n -f "$T/pat.json"
chmod 600 "$T/pat.json"
expect 0 "configuration $T/pat.json OK" -n -f "$T/pat.json"
conf "$T/key.json" "\"private_key_file\": \"$T/key.p8\", \"user\": \"u\", \"account\": \"a\""
chmod 640 "$T/key.p8"
expect 3 "private key $T/key.p8 has mode 0640.*chmod 600 $T/key.p8" -n -f "$T/key.json"
chmod 600 "$T/key.p8"
expect 0 "OK" -n -f "$T/key.json"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$T/key.p8"
	expect 3 "owned by uid .*run: chown" -n -f "$T/key.json"
	chown 0 "$T/key.p8"
fi
conf "$T/enc.json" "\"private_key_file\": \"$T/enc.p8\", \"user\": \"u\", \"account\": \"a\""
expect 3 "encrypted; set \"private_key_passphrase_file\"" -n -f "$T/enc.json"
printf 'wrong\n' > "$T/badpass"
chmod 600 "$T/badpass"
conf "$T/encbad.json" "\"private_key_file\": \"$T/enc.p8\", \"private_key_passphrase_file\": \"$T/badpass\", \"user\": \"u\", \"account\": \"a\""
expect 3 "wrong passphrase" -n -f "$T/encbad.json"
conf "$T/encok.json" "\"private_key_file\": \"$T/enc.p8\", \"private_key_passphrase_file\": \"$T/pass\", \"user\": \"u\", \"account\": \"a\""
chmod 604 "$T/pass"
expect 3 "passphrase file $T/pass has mode 0604" -n -f "$T/encok.json"
chmod 600 "$T/pass"
expect 0 "OK" -n -f "$T/encok.json"
printf 'not a key\n' > "$T/junk.p8"
chmod 600 "$T/junk.p8"
conf "$T/junk.json" "\"private_key_file\": \"$T/junk.p8\", \"user\": \"u\", \"account\": \"a\""
expect 3 "not a PEM private key" -n -f "$T/junk.json"
# --check reports the config failure as a FAIL line with the config exit code
expect 3 "^FAIL config" --check -f "$T/unknown.json"
# the example config parses: its key file is absent, and on a host without
# the packaged users sensord's user is too; those are the only complaints
if id snowsense >/dev/null 2>&1; then
	expect 3 "streamerd_key.p8" -n -f "$TOP/config/streamerd.json"
else
	expect 3 '"sensord_user": user "snowsense" does not exist' -n -f "$TOP/config/streamerd.json"
fi
echo "ok: every refusal has its message and exit code"
