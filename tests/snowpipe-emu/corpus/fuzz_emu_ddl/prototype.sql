-- the prototype's forms, shortened (full file: tests/snowpipe-emu/prototype.sql)
CREATE OR REPLACE USER U; USE ROLE R; USE DATABASE DEMO; USE SCHEMA DEMO;
CREATE OR REPLACE TABLE THERMAL_SENSOR_DATA (raw_data VARIANT, uuid VARCHAR(100),
  temperature DECIMAL(10, 4), ts BIGINT, datetimestamp TIMESTAMP_NTZ,
  ingestion_timestamp TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP());
COMMENT ON TABLE THERMAL_SENSOR_DATA IS 'x; y';
CREATE OR REPLACE PIPE THERMAL_SENSOR_PIPE COMMENT = 'p' AS COPY INTO THERMAL_SENSOR_DATA
  (raw_data, uuid, temperature, ts, datetimestamp) FROM (SELECT $1 as raw_data,
  $1:uuid::VARCHAR as uuid, $1:temperature::DECIMAL(10,4) as temperature,
  $1:ts::BIGINT as ts, TO_TIMESTAMP_NTZ($1:datetimestamp) as datetimestamp
  FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')));
CREATE OR REPLACE AUTHENTICATION POLICY P AUTHENTICATION_METHODS = ('KEYPAIR');
