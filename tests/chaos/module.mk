# SPDX-License-Identifier: Apache-2.0
# tests/chaos/: the fault-injection soak (`make chaos`, not part of `make all`):
# the whole pipeline under random faults (daemons killed, HTTP error storms,
# token expiry, channel invalidation, a chip unplugged), then the emulator's
# table audited against the tapped records: 0 lost, 0 duplicated. Then
# POWERCUT_CUTS (default 15) power cuts per fsync mode under sensord
# (tests/integration/sensord/powercut.sh; its skip, exit 77, is no failure).

.PHONY: chaos

# CHAOS_MINUTES (default 3) or CHAOS_SECONDS; CHAOS_SEED to replay a run.
CHAOS_MINUTES ?= 3
POWERCUT_CUTS ?= 15
chaos:
	@$(MAKE) --no-print-directory tests >/dev/null
	@BUILD=$(abspath $(BUILD)) TOP=$(CURDIR) CHAOS_MINUTES=$(CHAOS_MINUTES) \
		python3 tests/chaos/chaos $(if $(CHAOS_SECONDS),--seconds $(CHAOS_SECONDS)) \
		$(if $(CHAOS_SEED),--seed $(CHAOS_SEED)) --json $(BUILD)/chaos.json
	@BUILD=$(abspath $(BUILD)) TOP=$(CURDIR) POWERCUT_CUTS=$(POWERCUT_CUTS) \
		tests/integration/sensord/powercut.sh || [ $$? -eq 77 ]
