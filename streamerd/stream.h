/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stream: streamerd's daemon — the single poll loop, the HTTP client, the
 * sensord connection and the batch queues around the channel engine
 * (engine.h), which decides everything. Also the blocking one-shot modes
 * (--check, --drop-channel), which drive the same engine synchronously.
 */
#ifndef STREAMERD_STREAM_H
#define STREAMERD_STREAM_H

#include <signal.h>
#include <stdbool.h>

#include <openssl/evp.h>

#include "config.h"
#include "engine.h"
#include "row.h"

struct stream;

struct notify;

/* Creates the daemon (or, by eo->mode, the --check or --drop-channel run)
 * for cf (borrowed for its lifetime); key is stolen (NULL with PAT auth);
 * nt (systemd's notify socket, may be NULL) is borrowed for its lifetime.
 * Returns 0 or -errno. */
int stream_new(const struct config *cf, EVP_PKEY *key, const struct row_host *host,
    struct notify *nt, const struct engine_opts *eo, struct stream **ret);
void stream_free(struct stream *s);
/* Runs the loop until *stop is set. Fatal conditions (auth refused,
 * missing pipe) exit through fatalx_code with the engine's exit code.
 * Returns 0 or -errno. */
int stream_run(struct stream *s, volatile sig_atomic_t *stop);
/* --check: prints one PASS/FAIL line per network stage (hostname, token,
 * pipe and channel status, sensord socket); returns the number of FAILs. */
int stream_check(struct stream *s);
/* --drop-channel: drops the channel (and its offset token) on the server.
 * Returns 0 or -errno (message logged). */
int stream_drop(struct stream *s);

#endif
