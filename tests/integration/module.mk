# SPDX-License-Identifier: Apache-2.0
# tests/integration/: the integration tests (<group>/<name>.sh, run by
# `make check` through tests/run-tests). Nothing to build here; what they
# need from Debian beyond the build: a real Prometheus text parser for the
# metrics files (ops/metrics.sh), and strace, which counts sensord's
# fdatasync calls (sensord/config-journal.sh), and tmux, the terminal in
# which sensortap --pretty and --watch are read back (sensortap/views.sh).
EXTRA_DEB_PACKAGES += python3-prometheus-client strace tmux
