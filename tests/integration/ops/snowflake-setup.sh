#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# config/snowflake: setup.sql creates the agreed table (the prototype's 25
# columns: 24 row keys plus RAW_DATA, in order), a streaming pipe that maps each row key
# to its column and the whole row to RAW_DATA, and the grants the streaming
# role needs; keys.sh makes a usable key pair whose printed ALTER USER body
# and SHA256 fingerprint are those of the key it wrote.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd openssl python3
sql=$TOP/config/snowflake/setup.sql
keys=$TOP/config/snowflake/keys.sh
words() { tr -s ' \t\n' '  ' | sed 's/^ //; s/ $//'; }

want="UUID ROWID HOSTNAME HOST IPADDRESS MACADDRESS TEMPERATURE HUMIDITY CO2
EQUIVALENTCO2PPM TOTALVOCPPB PRESSURE CPUTEMPF TEMPERATUREICP CPU MEMORY DISKUSAGE
RUNTIME TS SYSTEMTIME STARTTIME ENDTIME DATETIMESTAMP TE RAW_DATA"
want=$(echo "$want" | words)

# Table columns, in order, with comments stripped.
sed 's/--.*//' "$sql" | tr -s ' \t' ' ' >"$T/sql"
cols=$(sed -n '/CREATE TABLE IF NOT EXISTS DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA (/,/^)/p' "$T/sql" |
	sed -n 's/^ \([A-Z_0-9]*\) \(VARCHAR\|FLOAT\|INTEGER\|TIMESTAMP_NTZ\|VARIANT\).*/\1/p')
cols=$(echo "$cols" | words)
[ "$cols" = "$want" ] || fail "table columns: '$cols'"
n=$(echo "$cols" | wc -w)
[ "$n" = 25 ] || fail "$n columns, want 24 row keys + RAW_DATA"
sed -n '/THERMAL_SENSOR_DATA (/,/^)/p' "$T/sql" | grep -q 'NOT NULL' &&
	fail "a column is NOT NULL: missing values must be NULL"

types=$(sed -n '/THERMAL_SENSOR_DATA (/,/^)/p' "$T/sql" |
	sed -n 's/^ \(DATETIMESTAMP\|RAW_DATA\|CPUTEMPF\|ROWID\) \([A-Z_]*\(([0-9]*)\)\{0,1\}\).*/\1:\2/p' | tr '\n' ' ')
[ "$types" = "ROWID:VARCHAR(64) CPUTEMPF:INTEGER DATETIMESTAMP:TIMESTAMP_NTZ RAW_DATA:VARIANT " ] ||
	fail "column types: $types"

# The pipe: COPY INTO column list = table columns; SELECT maps $1:key in the
# same order (key = lower-case column) and $1 last; streaming source.
pipe=$(sed -n '/CREATE PIPE IF NOT EXISTS DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_PIPE/,/^);/p' "$T/sql" | tr '\n' ' ')
[ -n "$pipe" ] || fail "no CREATE PIPE ... THERMAL_SENSOR_PIPE"
into=$(echo "$pipe" | sed -n 's/.*COPY INTO DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA (\([^)]*\)).*/\1/p' | tr -d ',')
into=$(echo "$into" | words)
[ "$into" = "$want" ] || fail "COPY INTO columns: '$into'"
sel=$(echo "$pipe" | sed -n 's/.*SELECT \(.*\) FROM TABLE.*/\1/p' | tr -d ',' | tr -s ' ' '\n' |
	sed -n -e "s/^[$]1:\\([a-z0-9_]*\\)\$/\\1/p" -e "s/^[$]1\$/RAW_DATA/p" | tr '[:lower:]' '[:upper:]')
sel=$(echo "$sel" | words)
[ "$sel" = "$want" ] || fail "SELECT keys: '$sel'"
echo "$pipe" | grep -q "FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING'))" || fail "pipe is not a streaming pipe"

# Grants of docs/snowpipe.md §7.
for g in "GRANT USAGE ON DATABASE DEMO_DB TO ROLE SNOWSENSE_INGEST_ROLE" \
	"GRANT USAGE ON SCHEMA DEMO_DB.DEMO_SCHEMA TO ROLE SNOWSENSE_INGEST_ROLE" \
	"GRANT INSERT ON TABLE DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA TO ROLE SNOWSENSE_INGEST_ROLE" \
	"GRANT OPERATE, MONITOR ON PIPE DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_PIPE TO ROLE SNOWSENSE_INGEST_ROLE" \
	"GRANT ROLE SNOWSENSE_INGEST_ROLE TO USER SNOWSENSE_INGEST"; do
	grep -qF "$g;" "$T/sql" || fail "missing: $g"
done
grep -q "CREATE USER IF NOT EXISTS SNOWSENSE_INGEST" "$T/sql" || fail "no service user"
for v in THERMAL_SENSOR_LATEST THERMAL_SENSOR_HOURLY; do
	grep -q "CREATE OR REPLACE VIEW DEMO_DB.DEMO_SCHEMA.$v AS" "$T/sql" || fail "no view $v"
done
# Statements end with ';' and parentheses balance (a cheap syntax check).
o=$(tr -cd '(' <"$T/sql" | wc -c) c=$(tr -cd ')' <"$T/sql" | wc -c)
[ "$o" = "$c" ] || fail "unbalanced parentheses: $o ( vs $c )"

# The emulator's world (tests/snowpipe-emu/thermal.json) has the same
# table, column types and pipe mapping: the demo and the tests stream into
# what setup.sql creates.
emu=$TOP/tests/snowpipe-emu/thermal.json
if [ -f "$emu" ]; then
	sed -n '/THERMAL_SENSOR_DATA (/,/^)/p' "$T/sql" |
		sed -n 's/^ \([A-Z_0-9]*\) \([A-Z_]*\(([0-9]*)\)\{0,1\}\).*/\1 \2/p' | sed 's/,$//' >"$T/sqlcols"
	python3 - "$emu" "$T/sqlcols" "$T/sql" <<'PY' || fail "setup.sql and tests/snowpipe-emu/thermal.json disagree"
import json, re, sys
w = json.load(open(sys.argv[1]))
t = [x for x in w["tables"] if x["name"] == "THERMAL_SENSOR_DATA"][0]
emu_cols = [c if isinstance(c, str) else c["name"] + " " + c["type"] for c in t["columns"]]
sql_cols = [l.strip() for l in open(sys.argv[2]) if l.strip()]
ok = True
if emu_cols != sql_cols:
    print("columns differ:\n emu %s\n sql %s" % (emu_cols, sql_cols)); ok = False
p = [x for x in w["pipes"] if x["name"] == "THERMAL_SENSOR_PIPE"][0]
sql = open(sys.argv[3]).read()
sel = re.search(r"SELECT (.*?) FROM TABLE", sql.replace("\n", " "), re.S).group(1)
sel = [x.strip() for x in sel.split(",")]
if p["select"] != sel:
    print("pipe select differs:\n emu %s\n sql %s" % (p["select"], sel)); ok = False
if p["columns"] != [c.split()[0] for c in sql_cols]:
    print("pipe columns differ"); ok = False
sys.exit(0 if ok else 1)
PY
else
	echo "(tests/snowpipe-emu/thermal.json absent: emulator comparison skipped)"
fi

# keys.sh: plain key.
"$keys" -o "$T/k" -u TESTUSER >"$T/out" 2>"$T/err" || fail "keys.sh failed: $(cat "$T/err")"
[ "$(stat -c %a "$T/k/streamerd_key.p8")" = 600 ] || fail "private key mode $(stat -c %a "$T/k/streamerd_key.p8")"
head -n 1 "$T/k/streamerd_key.p8" | grep -q '^-----BEGIN PRIVATE KEY-----$' || fail "not a PKCS#8 key"
bits=$(openssl pkey -in "$T/k/streamerd_key.p8" -noout -text 2>/dev/null | sed -n 's/.*Private-Key: (\([0-9]*\) bit.*/\1/p')
[ "$bits" = 2048 ] || fail "key has $bits bits"
body=$(sed -n "s/^ALTER USER TESTUSER SET RSA_PUBLIC_KEY='\([A-Za-z0-9+/=]*\)';$/\1/p" "$T/out")
[ -n "$body" ] || fail "no ALTER USER line: $(cat "$T/out")"
# The body is the DER SubjectPublicKeyInfo of the written key.
printf '%s' "$body" | openssl base64 -d -A >"$T/spki.der"
openssl pkey -in "$T/k/streamerd_key.p8" -pubout -outform DER >"$T/expect.der"
cmp -s "$T/spki.der" "$T/expect.der" || fail "ALTER USER key is not the written key's public key"
fp=$(python3 -c 'import base64,hashlib,sys
print("SHA256:" + base64.b64encode(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).decode())' "$T/expect.der")
[ "$(tail -n 1 "$T/out")" = "$fp" ] || fail "fingerprint $(tail -n 1 "$T/out"), computed $fp"
# Never overwrites.
if "$keys" -o "$T/k" >/dev/null 2>&1; then fail "keys.sh overwrote an existing key"; fi
# -s shows the same for an existing key.
"$keys" -s "$T/k/streamerd_key.p8" -u TESTUSER | tail -n 1 | grep -qxF "$fp" || fail "-s prints another fingerprint"

# Encrypted key: unreadable without the passphrase, fingerprint printed.
printf 'correct horse\n' >"$T/pass"
"$keys" -o "$T/k" -n enc -p "$T/pass" -b 3072 >"$T/out2" 2>/dev/null || fail "keys.sh -p failed"
head -n 1 "$T/k/enc.p8" | grep -q 'ENCRYPTED PRIVATE KEY' || fail "-p key not encrypted"
if openssl pkey -in "$T/k/enc.p8" -passin pass:wrong -noout 2>/dev/null; then fail "encrypted key opens with a wrong passphrase"; fi
fp2=$(openssl pkey -in "$T/k/enc.p8" -passin "file:$T/pass" -pubout -outform DER | openssl dgst -sha256 -binary | openssl base64 -A)
[ "$(tail -n 1 "$T/out2")" = "SHA256:$fp2" ] || fail "encrypted key fingerprint mismatch"
if "$keys" -o "$T/k" -n small -b 1024 >/dev/null 2>&1; then fail "keys.sh accepted 1024 bits"; fi

echo "setup.sql: $n columns, pipe and grants OK; keys.sh OK ($fp)"
