#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# streamerd --print-config prints the configuration in effect as JSON: the
# file's keys, the defaults of the others, the derived pipe, --batch-size and
# --flush-interval applied; a planted PAT is never printed (the key shows
# "<redacted>"), nor the passphrase behind private_key_passphrase_file
# (its path is not a secret and is printed); the output loads back into the
# same configuration; a bad file gives exit 3 naming the file and the key,
# with nothing on stdout and no secret in the message. Needs no network.
set -u
. "$TOP/tests/lib/harness.sh"
SD=$STREAMERD_BIN
need_built "$SD"
watch_log "$T/err"
PAT=pat-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
PASS=horse-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$PASS" >"$T/pass"
chmod 600 "$T/pass"

# sensord's user, where streamerd's configuration names it: one that exists
SU=""
if grep -q '"sensord_user"' "$TOP/config/streamerd.json"; then
	SU="\"sensord_user\": \"$RUN_USER\", "
fi
conf() {	# conf FILE JSON-members
	printf '{ "database": "DEMO_DB", "schema": "DEMO_SCHEMA", "account": "emuacct",\n  "socket": "%s/s.sock", %s%s }\n' "$T" "$SU" "$2" >"$1"
	chmod 600 "$1"
}
# no_secret FILE...: neither the PAT nor the passphrase in any FILE
no_secret() {
	! grep -qF -e "$PAT" -e "$PASS" "$@" || fail "a secret was printed: $(cat "$@")"
}

conf "$T/pat.json" "\"pat\": \"$PAT\", \"table\": \"T1\", \"compression\": \"gzip\""
"$SD" -f "$T/pat.json" --print-config --batch-size 33 --flush-interval 0.25 >"$T/out" \
	2>"$T/err" || fail "--print-config: exit $?"
no_secret "$T/out" "$T/err"
python3 - "$T/out" "$T" <<'PY' || fail "printed config: $(cat "$T/out")"
import json, sys
c = json.load(open(sys.argv[1]))
want = {
    "pat": "<redacted>", "table": "T1", "pipe": "T1-STREAMING", "compression": "gzip",
    "database": "DEMO_DB", "account": "emuacct", "socket": sys.argv[2] + "/s.sock",
    "batch_max_rows": 33, "flush_interval_ms": 250,
    "batch_max_bytes": 64000000, "batch_max_wire_bytes": 2000000,
    "queue_max_wire_bytes": 4000000, "commit_poll_ms": 500, "user_agent_app": "snowsense",
    "private_key_file": None, "channel_name": None, "metrics_file": None,
}
bad = ["%s: %r, want %r" % (k, c.get(k, "absent"), v)
       for k, v in want.items() if c.get(k, "absent") != v]
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

# key-pair: the file paths are printed, the passphrase is not read at all
conf "$T/jwt.json" "\"private_key_file\": \"$T/absent.p8\", \"private_key_passphrase_file\": \"$T/pass\", \"user\": \"streamer\", \"pipe\": \"P\""
"$SD" -f "$T/jwt.json" --print-config >"$T/out" 2>"$T/err" || fail "key-pair: exit $?"
no_secret "$T/out" "$T/err"
grep -qF "\"private_key_passphrase_file\": \"$T/pass\"" "$T/out" || fail "no passphrase path: $(cat "$T/out")"
grep -qF "\"private_key_file\": \"$T/absent.p8\"" "$T/out" || fail "no key path: $(cat "$T/out")"
grep -q '"pat": null' "$T/out" || fail "pat not null: $(cat "$T/out")"
# ... and what it prints is a configuration that prints the same
cp "$T/out" "$T/printed.json"
"$SD" -f "$T/printed.json" --print-config >"$T/again" 2>"$T/err" || fail "reload: exit $?"
grep -v _comment "$T/out" >"$T/a"
grep -v _comment "$T/again" >"$T/b"
cmp -s "$T/a" "$T/b" || fail "the printed config does not load back: $(diff "$T/a" "$T/b")"

# A bad key: exit 3, file and key named, nothing printed, no secret.
conf "$T/bad.json" "\"pat\": \"$PAT\", \"pipe\": \"P\", \"batch_max_rows\": 0"
rc=0; "$SD" -f "$T/bad.json" --print-config >"$T/out" 2>"$T/err" || rc=$?
expect_eq "$rc" 3 "exit status for a bad config"
grep -q 'bad.json: "batch_max_rows": expected integer 1..1000000, got 0' "$T/err" ||
	fail "message: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "a bad config printed: $(cat "$T/out")"
no_secret "$T/out" "$T/err"
rc=0; "$SD" -f "$T/pat.json" --print-config --check >"$T/out" 2>&1 || rc=$?
expect_eq "$rc" 2 "exit status for --print-config --check"
echo "ok: --print-config shows defaults, the file's keys and the overrides, never a secret"
