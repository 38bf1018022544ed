#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# snowpipe-emu auth: every way a credential is refused (bad signature, wrong
# fingerprint, other key, expired, iat in the future, lifetime > 1 h, unknown
# user, account mismatch, wrong algorithm, missing times, bad and expired PAT,
# expired and tampered scoped tokens, missing Accept), each with the specific
# reason in the emulator's log, plus the accepted edge cases.
set -u
. "$TOP/tests/lib/harness.sh"
openssl genrsa -out "$T/other.key" 2048 2>/dev/null || fail "openssl genrsa"

# an expired PAT next to the good one, scoped tokens living 2 s
emu_world "$T/auth.json" \
	's/"pats": \[/"pats": [ { "name": "OLD", "secret": "expired-pat-secret", "expires_in_s": -10 },/' \
	's/"scoped_token_ttl_s": 3600/"scoped_token_ttl_s": 2/'
EMU_WORLD=$T/auth.json start_emu

# refused JWT: 401, generic code for the client, the reason in the log
refused() {	# refused REASON DESCRIPTION emu-jwt-args...
	reason=$1 what=$2
	shift 2
	AUTH=$("$BIN/emu-jwt" "$@") req GET /v2/streaming/hostname
	expect_status 401 "$what"
	expect_body '"code":"390144"' "$what"
	expect_body 'JWT token is invalid. [' "$what"
	uuid=$(printf '%s' "$BODY" | sed -n 's/.*\[\([0-9a-f-]*\)\].*/\1/p')
	grep -q "auth refused \[$uuid\]: .*$reason" "$EMU_LOG" ||
		fail "$what: log lacks reason $reason for $uuid"
}
K="--key $STREAMER_KEY --account EMUACCT --user STREAMER"
# shellcheck disable=SC2086
{
refused 394306 "bad signature" $K --bad-signature
refused 394304 "wrong fingerprint" $K --fp SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
refused 394304 "key not registered" --key "$T/other.key" --account EMUACCT --user STREAMER
refused 394303 "expired" $K --iat-offset -4000 --lifetime 3600
refused 394302 "iat 120 s in the future" $K --iat-offset 120
refused 394303 "lifetime over one hour" $K --lifetime 3601
refused 394300 "unknown user" --key "$STREAMER_KEY" --account EMUACCT --user NOBODY
refused 394307 "account mismatch" --key "$STREAMER_KEY" --account OTHERACCT --user STREAMER
refused 394305 "HS256" $K --alg HS256
refused 394305 "alg none" $K --alg none
refused 394301 "no iat/exp" $K --no-times
refused "sub" "sub mismatch" $K --sub EMUACCT.SOMEONE
# claims must be upper-cased by the client (docs/snowpipe.md §2.2)
refused 394307 "lower-case account" --key "$STREAMER_KEY" --account emuacct --user STREAMER
refused 394300 "lower-case user" --key "$STREAMER_KEY" --account EMUACCT --user streamer
}

# accepted edges: 30 s clock skew, lifetime exactly 3600 s, reuse within lifetime
AUTH=$(jwt --iat-offset 30) req GET /v2/streaming/hostname
expect_status 200 "iat 30 s ahead"
AUTH=$(jwt --lifetime 3600) req GET /v2/streaming/hostname
expect_status 200 "lifetime 3600 s"
AUTH=$(jwt --iat-offset -3000) req GET /v2/streaming/hostname
expect_status 200 "JWT reused 50 min after iat"

# PATs
AUTH=not-a-valid-pat req GET /v2/streaming/hostname
expect_status 401 "bad PAT"
expect_body PAT_INVALID "bad PAT"
AUTH=expired-pat-secret req GET /v2/streaming/hostname
expect_status 401 "expired PAT"
grep -q 'PAT OLD of STREAMER expired' "$EMU_LOG" || fail "expired PAT reason not logged"
AUTH=$PAT req GET /v2/streaming/hostname
expect_status 200 "good PAT"

# no credential, garbage token, missing Accept
AUTH='' req GET /v2/streaming/hostname
expect_status 401 "no Authorization"
AUTH=a.b.c req GET /v2/streaming/hostname
expect_status 401 "garbage JWT"
ACCEPT=none AUTH=$PAT req GET /v2/streaming/hostname
expect_status 400 "no Accept"
expect_body '"code":"391902"' "no Accept"
expect_body 'Unsupported Accept header null' "no Accept"
ACCEPT='*/*' AUTH=$PAT req GET /v2/streaming/hostname
expect_status 200 "Accept */*"

# token exchange refusals
AUTH=$(jwt --bad-signature) req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST"
expect_status 401 "exchange with a bad JWT"
AUTH=$(jwt) req POST /oauth/token --data "grant_type=password&scope=$HOST"
expect_status 400 "bad grant_type"
AUTH=$(jwt) req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=evil.example.com"
expect_status 400 "scope for another host"
expect_body INVALID_SCOPE "scope for another host"

# scoped tokens: cannot be exchanged again, tampering detected, expire
scoped_token
AUTH=$SCOPED req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST"
expect_status 401 "scoped token used for the exchange"
# flip a character in the middle of the signature, then one at its end
# (whose low bits are padding: a non-canonical encoding is refused too)
sig=${SCOPED##*.}
pre=${SCOPED%.*}
mid=$(printf '%s' "$sig" | cut -c10)
[ "$mid" = A ] && rep=B || rep=A
AUTH="$pre.$(printf '%s' "$sig" | cut -c1-9)$rep$(printf '%s' "$sig" | cut -c11-)" \
	req PUT "/v2/streaming/$PIPE_PATH/channels/a1" --data '{}'
expect_status 401 "tampered scoped token"
last=$(printf '%s' "$sig" | sed 's/.*\(.\)$/\1/')
case $last in A) rep=B ;; *) rep=A ;; esac
AUTH="$pre.$(printf '%s' "$sig" | sed 's/.$//')$rep" req PUT "/v2/streaming/$PIPE_PATH/channels/a1" --data '{}'
expect_status 401 "scoped token with a non-canonical last character"
open_channel a1
sleep 3
AUTH=$SCOPED req PUT "/v2/streaming/$PIPE_PATH/channels/a1" --data '{}'
expect_status 401 "expired scoped token"
expect_body '"code":"390303"' "expired scoped token"
grep -q 'scoped token: expired' "$EMU_LOG" || fail "scoped expiry not logged"
stop_emu
echo ok
