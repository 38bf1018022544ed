#!/bin/sh
# Production sources carry no banned calls, no simulation, no test hooks
# (scripts/checksrc).
exec "$TOP/scripts/checksrc"
