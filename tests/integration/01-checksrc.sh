#!/bin/sh
# Production sources carry no banned calls, no simulation, no test hooks.
exec "$TOP/scripts/checksrc"
