-- The Python prototype's Snowflake objects, as a user migrating from it has
-- them: the same statement forms (role and user set-up, USE DATABASE / USE
-- SCHEMA and then unqualified names, lower-case column names, DECIMAL(p, s)
-- columns, an ingestion time column with DEFAULT CURRENT_TIMESTAMP(), COMMENT
-- ON statements, a named streaming pipe whose SELECT casts every path, aliases
-- it and converts the time with TO_TIMESTAMP_NTZ), rewritten for the
-- emulator's tests. The emulator reads it with "ddl_file"; see README.md and
-- tests/integration/29-emu-prototype.sh. config/snowflake/setup.sql is the
-- project's own DDL for new installs.

-- who streams
CREATE OR REPLACE USER THERMAL_STREAMING_USER;
CREATE ROLE IF NOT EXISTS THERMAL_STREAMING_ROLE;
GRANT ROLE THERMAL_STREAMING_ROLE TO USER THERMAL_STREAMING_USER;
ALTER USER THERMAL_STREAMING_USER SET RSA_PUBLIC_KEY = 'MIIBIjANBgkqh...';
ALTER USER THERMAL_STREAMING_USER SET DEFAULT_ROLE = THERMAL_STREAMING_ROLE;
USE ROLE THERMAL_STREAMING_ROLE;

-- where: everything below is unqualified
USE DATABASE DEMO;
USE SCHEMA DEMO;

CREATE OR REPLACE TABLE THERMAL_SENSOR_DATA (
    -- the whole row as it arrived
    raw_data VARIANT,

    -- who and where
    uuid VARCHAR(100),
    rowid VARCHAR(100),
    hostname VARCHAR(100),
    host VARCHAR(100),
    ipaddress VARCHAR(50),
    macaddress VARCHAR(50),

    -- the chips
    temperature DECIMAL(10, 4),
    humidity DECIMAL(10, 2),
    co2 DECIMAL(10, 1),
    equivalentco2ppm DECIMAL(10, 1),
    totalvocppb DECIMAL(10, 1),
    pressure DECIMAL(10, 2),

    -- the host
    cputempf INTEGER,
    temperatureicp DECIMAL(10, 1),
    cpu DECIMAL(5, 1),
    memory DECIMAL(5, 1),
    diskusage VARCHAR(50),
    runtime INTEGER,

    -- times
    ts BIGINT,
    systemtime VARCHAR(50),
    starttime VARCHAR(50),
    endtime VARCHAR(50),
    datetimestamp TIMESTAMP_NTZ,
    te VARCHAR(50),

    -- when the row arrived (a streaming pipe evaluates it once, when compiled)
    ingestion_timestamp TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP()
);

COMMENT ON TABLE THERMAL_SENSOR_DATA IS
'Sensor rows from a Raspberry Pi; statements like this one change nothing in the emulator';
COMMENT ON COLUMN THERMAL_SENSOR_DATA.temperature IS 'degrees C; a ; inside a string';
COMMENT ON COLUMN THERMAL_SENSOR_DATA.pressure IS 'Pa';

CREATE OR REPLACE PIPE THERMAL_SENSOR_PIPE
COMMENT = 'streaming pipe into THERMAL_SENSOR_DATA'
AS
COPY INTO THERMAL_SENSOR_DATA (
    raw_data, uuid, rowid, hostname, host, ipaddress, macaddress,
    temperature, humidity, co2, equivalentco2ppm, totalvocppb, pressure,
    cputempf, temperatureicp, cpu, memory, diskusage, runtime,
    ts, systemtime, starttime, endtime, datetimestamp, te
)
FROM (
    SELECT
        $1 AS raw_data,
        $1:uuid::VARCHAR AS uuid,
        $1:rowid::VARCHAR AS rowid,
        $1:hostname::VARCHAR AS hostname,
        $1:host::VARCHAR AS host,
        $1:ipaddress::VARCHAR AS ipaddress,
        $1:macaddress::VARCHAR AS macaddress,
        $1:temperature::DECIMAL(10,4) AS temperature,
        $1:humidity::DECIMAL(10,2) AS humidity,
        $1:co2::DECIMAL(10,1) AS co2,
        $1:equivalentco2ppm::DECIMAL(10,1) AS equivalentco2ppm,
        $1:totalvocppb::DECIMAL(10,1) AS totalvocppb,
        $1:pressure::DECIMAL(10,2) AS pressure,
        $1:cputempf::INTEGER AS cputempf,
        $1:temperatureicp::DECIMAL(10,1) AS temperatureicp,
        $1:cpu::DECIMAL(5,1) AS cpu,
        $1:memory::DECIMAL(5,1) AS memory,
        $1:diskusage::VARCHAR AS diskusage,
        $1:runtime::INTEGER AS runtime,
        $1:ts::BIGINT AS ts,
        $1:systemtime::VARCHAR AS systemtime,
        $1:starttime::VARCHAR AS starttime,
        $1:endtime::VARCHAR AS endtime,
        TO_TIMESTAMP_NTZ($1:datetimestamp) AS datetimestamp,
        $1:te::VARCHAR AS te
    FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING'))
);

GRANT USAGE ON DATABASE DEMO TO ROLE THERMAL_STREAMING_ROLE;
GRANT USAGE ON SCHEMA DEMO.DEMO TO ROLE THERMAL_STREAMING_ROLE;
GRANT SELECT, INSERT ON TABLE DEMO.DEMO.THERMAL_SENSOR_DATA TO ROLE THERMAL_STREAMING_ROLE;
GRANT OPERATE, MONITOR ON PIPE DEMO.DEMO.THERMAL_SENSOR_PIPE TO ROLE THERMAL_STREAMING_ROLE;

CREATE OR REPLACE AUTHENTICATION POLICY thermal_streaming_auth_policy
    AUTHENTICATION_METHODS = ('KEYPAIR')
    CLIENT_TYPES = ('DRIVERS');
ALTER USER THERMAL_STREAMING_USER SET AUTHENTICATION POLICY thermal_streaming_auth_policy;

SHOW PIPES LIKE 'THERMAL_SENSOR_PIPE' IN SCHEMA DEMO.DEMO;
DESC PIPE DEMO.DEMO.THERMAL_SENSOR_PIPE;
