-- snowsense: Snowflake objects for a new install.
--
-- Run as a role that may create roles, users, databases and pipes (e.g.
-- ACCOUNTADMIN, or SECURITYADMIN for the first block and SYSADMIN for the
-- rest), in a worksheet or with `snowsql -f setup.sql`. Every statement is
-- idempotent (IF NOT EXISTS / OR REPLACE only for views), so running it again
-- changes nothing that already exists.
--
-- The table and the named pipe are the Python prototype's, column for column:
-- an install that already has THERMAL_SENSOR_DATA and THERMAL_SENSOR_PIPE can
-- keep them and skip to the grants (and the key registration). streamerd
-- writes one NDJSON row per record with the 24 lower-case keys of the
-- columns below (RAW_DATA, the 25th column, is the whole row), plus
-- extra keys (seq, device, synced, boot_id, each chip's state, since and
-- error, sgp30_baseline_ok, faults, t_ns, journal_id, ...: docs/schema.md
-- lists them) that reach RAW_DATA through the pipe's `$1`.
--
-- Names used here match config/streamerd.json; change them in both places.
--   role      SNOWSENSE_INGEST_ROLE  user   SNOWSENSE_INGEST
--   database  DEMO_DB              schema DEMO_SCHEMA
--   table     THERMAL_SENSOR_DATA  pipe   THERMAL_SENSOR_PIPE

------------------------------------------------------------------ identity
USE ROLE ACCOUNTADMIN;

CREATE ROLE IF NOT EXISTS SNOWSENSE_INGEST_ROLE
  COMMENT = 'snowsense streamerd: streams sensor rows through THERMAL_SENSOR_PIPE';

-- A service user: no password, key-pair (or PAT) authentication only.
CREATE USER IF NOT EXISTS SNOWSENSE_INGEST
  TYPE = SERVICE
  DEFAULT_ROLE = SNOWSENSE_INGEST_ROLE
  COMMENT = 'snowsense streamerd on the sensor host';
GRANT ROLE SNOWSENSE_INGEST_ROLE TO USER SNOWSENSE_INGEST;

-- Key-pair authentication (recommended). config/snowflake/keys.sh creates
-- the key pair and prints this statement with your public key filled in:
--   ALTER USER SNOWSENSE_INGEST SET RSA_PUBLIC_KEY = 'MIIBIjANBgkqh...';
-- Then compare the fingerprint Snowflake stored with the one keys.sh and
-- `streamerd --check` print (SHA256:...):
--   DESC USER SNOWSENSE_INGEST;   -- property RSA_PUBLIC_KEY_FP
-- To rotate: set RSA_PUBLIC_KEY_2 to the new key, switch streamerd to it,
-- then UNSET RSA_PUBLIC_KEY.

-- Programmatic access token (alternative to the key pair). Snowflake shows
-- the secret once, in column token_secret; put it in streamerd.json as "pat".
-- A PAT is only usable when the user is covered by a network policy, unless
-- an authentication policy relaxes that (PAT_POLICY). Uncomment to use:
-- ALTER USER SNOWSENSE_INGEST ADD PROGRAMMATIC ACCESS TOKEN SNOWSENSE_INGEST_PAT
--   ROLE_RESTRICTION = 'SNOWSENSE_INGEST_ROLE' DAYS_TO_EXPIRY = 365
--   COMMENT = 'snowsense streamerd';

------------------------------------------------------------------ target
USE ROLE SYSADMIN;

CREATE DATABASE IF NOT EXISTS DEMO_DB;
CREATE SCHEMA IF NOT EXISTS DEMO_DB.DEMO_SCHEMA;

-- The prototype's table. Every column is nullable on purpose: a value the
-- sensors did not produce is NULL, never 0 or a sentinel.
CREATE TABLE IF NOT EXISTS DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA (
  UUID             VARCHAR(36),   -- from (journal_id, seq): same on replay
  ROWID            VARCHAR(64),   -- <journal_id hex>-<seq 20 digits> = offset token
  HOSTNAME         VARCHAR(255),  -- device id (sensord "device")
  HOST             VARCHAR(255),  -- system host name
  IPADDRESS        VARCHAR(64),   -- first non-loopback IPv4
  MACADDRESS       VARCHAR(32),   -- its MAC
  TEMPERATURE      FLOAT,         -- SCD4x, degrees C
  HUMIDITY         FLOAT,         -- SCD4x, %RH
  CO2              FLOAT,         -- SCD4x, ppm
  EQUIVALENTCO2PPM FLOAT,         -- SGP30 eCO2, ppm (NULL during warm-up)
  TOTALVOCPPB      FLOAT,         -- SGP30 TVOC, ppb (NULL during warm-up)
  PRESSURE         FLOAT,         -- ICP-10125, Pa
  CPUTEMPF         INTEGER,       -- CPU temperature, degrees F
  TEMPERATUREICP   FLOAT,         -- ICP-10125 temperature, degrees F
  CPU              FLOAT,         -- CPU busy, %
  MEMORY           FLOAT,         -- memory used, %
  DISKUSAGE        VARCHAR(255),  -- free disk, "N MB"
  RUNTIME          INTEGER,       -- device uptime at measurement, s
  TS               INTEGER,       -- measurement time, Unix epoch s
  SYSTEMTIME       VARCHAR(50),   -- measurement time, MM/DD/YYYY HH:MM:SS UTC
  STARTTIME        VARCHAR(50),   -- same instant as SYSTEMTIME
  ENDTIME          VARCHAR(50),   -- epoch seconds as text
  DATETIMESTAMP    TIMESTAMP_NTZ, -- measurement time, UTC
  TE               VARCHAR(50),   -- seconds from measurement to batching
  RAW_DATA         VARIANT        -- the whole row object, with the extra keys
)
COMMENT = 'snowsense sensor rows (prototype-compatible THERMAL_SENSOR_DATA)';

-- The named streaming pipe (a pipe is a streaming pipe because it reads
-- TABLE(DATA_SOURCE(TYPE => 'STREAMING'))). Values are not cast here: each
-- column's type converts the JSON value, and a row that does not convert is
-- counted in the channel's rows_error_count (streamerd logs it). The table's default pipe
-- "THERMAL_SENSOR_DATA-STREAMING" also works without any DDL, but it drops
-- the extra keys instead of keeping them in RAW_DATA.
CREATE PIPE IF NOT EXISTS DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_PIPE
  COMMENT = 'snowsense: NDJSON rows from streamerd into THERMAL_SENSOR_DATA'
AS
COPY INTO DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA (
  UUID, ROWID, HOSTNAME, HOST, IPADDRESS, MACADDRESS,
  TEMPERATURE, HUMIDITY, CO2, EQUIVALENTCO2PPM, TOTALVOCPPB, PRESSURE,
  CPUTEMPF, TEMPERATUREICP, CPU, MEMORY, DISKUSAGE, RUNTIME, TS,
  SYSTEMTIME, STARTTIME, ENDTIME, DATETIMESTAMP, TE, RAW_DATA
)
FROM (
  SELECT
    $1:uuid, $1:rowid, $1:hostname, $1:host, $1:ipaddress, $1:macaddress,
    $1:temperature, $1:humidity, $1:co2, $1:equivalentco2ppm,
    $1:totalvocppb, $1:pressure, $1:cputempf, $1:temperatureicp, $1:cpu,
    $1:memory, $1:diskusage, $1:runtime, $1:ts, $1:systemtime, $1:starttime,
    $1:endtime, $1:datetimestamp, $1:te,
    $1
  FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING'))
);

------------------------------------------------------------------ grants
-- What the streaming client's role needs (docs/snowpipe.md §7):
-- USAGE on database and schema, INSERT on the table, OPERATE on the named
-- pipe (MONITOR lets `streamerd --check` and SHOW CHANNELS read its status).
GRANT USAGE ON DATABASE DEMO_DB TO ROLE SNOWSENSE_INGEST_ROLE;
GRANT USAGE ON SCHEMA DEMO_DB.DEMO_SCHEMA TO ROLE SNOWSENSE_INGEST_ROLE;
GRANT INSERT ON TABLE DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA TO ROLE SNOWSENSE_INGEST_ROLE;
GRANT OPERATE, MONITOR ON PIPE DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_PIPE TO ROLE SNOWSENSE_INGEST_ROLE;

------------------------------------------------------------------ views
-- Conveniences for people reading the data, as the prototype had them;
-- streamerd neither needs nor reads them (its role gets no SELECT). Grant
-- SELECT on them to your analysts' role; replace them freely.

-- The newest row of each device.
CREATE OR REPLACE VIEW DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_LATEST AS
SELECT *
FROM DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA
QUALIFY ROW_NUMBER() OVER (PARTITION BY HOSTNAME ORDER BY DATETIMESTAMP DESC) = 1;

-- Hourly averages per device. AVG ignores NULLs, so hours in which a chip
-- was missing average only the real readings; SAMPLES counts rows.
CREATE OR REPLACE VIEW DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_HOURLY AS
SELECT
  HOSTNAME,
  DATE_TRUNC('HOUR', DATETIMESTAMP)   AS HOUR,
  COUNT(*)                            AS SAMPLES,
  AVG(TEMPERATURE)                    AS AVG_TEMPERATURE_C,
  AVG(HUMIDITY)                       AS AVG_HUMIDITY,
  AVG(CO2)                            AS AVG_CO2_PPM,
  MAX(CO2)                            AS MAX_CO2_PPM,
  AVG(EQUIVALENTCO2PPM)               AS AVG_ECO2_PPM,
  AVG(TOTALVOCPPB)                    AS AVG_TVOC_PPB,
  AVG(PRESSURE)                       AS AVG_PRESSURE_PA,
  AVG(TEMPERATUREICP)                 AS AVG_TEMPERATURE_ICP_F,
  AVG(CPUTEMPF)                       AS AVG_CPU_TEMP_F,
  AVG(CPU)                            AS AVG_CPU_PCT,
  AVG(MEMORY)                         AS AVG_MEMORY_PCT
FROM DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA
GROUP BY HOSTNAME, DATE_TRUNC('HOUR', DATETIMESTAMP);

-- Rows in which a value is missing for a reason other than a chip's own
-- cadence (no_new_sample) or the configuration (disabled), or that carry a
-- fault line, from RAW_DATA: per chip its state (ok, warming_up,
-- no_new_sample, retrying, absent, disabled), since when and why it is being
-- retried, and the SCD4x's reason for a null CO2 with valid T/RH. A JSON
-- null in RAW_DATA is not SQL NULL until cast, hence the ::STRING casts.
-- SGP30_WARMUP is only ever true in rows of versions before the states.
CREATE OR REPLACE VIEW DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_FAULTS AS
SELECT HOSTNAME, DATETIMESTAMP, RAW_DATA:seq::INTEGER AS SEQ,
       RAW_DATA:scd4x_state::STRING AS SCD4X_STATE,
       TO_TIMESTAMP_NTZ(RAW_DATA:scd4x_since::INTEGER, 9) AS SCD4X_SINCE,
       RAW_DATA:scd4x_error::STRING AS SCD4X_ERROR,
       RAW_DATA:scd4x_co2_error::STRING AS SCD4X_CO2_ERROR,
       RAW_DATA:sgp30_state::STRING AS SGP30_STATE,
       TO_TIMESTAMP_NTZ(RAW_DATA:sgp30_since::INTEGER, 9) AS SGP30_SINCE,
       RAW_DATA:sgp30_error::STRING AS SGP30_ERROR,
       RAW_DATA:icp10125_state::STRING AS ICP10125_STATE,
       TO_TIMESTAMP_NTZ(RAW_DATA:icp10125_since::INTEGER, 9) AS ICP10125_SINCE,
       RAW_DATA:icp10125_error::STRING AS ICP10125_ERROR,
       RAW_DATA:faults AS FAULTS, RAW_DATA:sgp30_warmup::BOOLEAN AS SGP30_WARMUP
FROM DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA
WHERE ARRAY_SIZE(RAW_DATA:faults) > 0
   OR RAW_DATA:scd4x_state::STRING IN ('warming_up', 'retrying', 'absent')
   OR RAW_DATA:sgp30_state::STRING IN ('warming_up', 'retrying', 'absent')
   OR RAW_DATA:icp10125_state::STRING IN ('warming_up', 'retrying', 'absent')
   OR RAW_DATA:scd4x_co2_error::STRING IS NOT NULL
   OR RAW_DATA:sgp30_warmup::BOOLEAN;

------------------------------------------------------------------ checks
-- After streamerd has run:
--   SHOW CHANNELS IN TABLE DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA;
--   SELECT * FROM DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_LATEST;
--   SELECT COUNT(*), COUNT(DISTINCT ROWID) FROM DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA;
--     (equal counts: no row arrived twice)
