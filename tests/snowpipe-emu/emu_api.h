/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_api: the Snowpipe Streaming REST endpoints and the emulator's control
 * endpoints (/_emu/...): routing, Accept and auth checks, faults, and the
 * channel operations, turning one emu_req into one answer.
 */
#ifndef EMU_API_H
#define EMU_API_H

#include <stdbool.h>

#include <jansson.h>

#include "emu_auth.h"
#include "emu_chan.h"
#include "emu_conf.h"
#include "emu_fault.h"
#include "emu_http.h"
#include "emu_store.h"

struct emu_api;

/* Creates the API over the given modules (all borrowed for the API's life). */
int emu_api_new(const struct emu_conf *conf, struct emu_auth *auth, struct emu_chans *chans,
    struct emu_faults *faults, struct emu_store *store, bool count_mode,
    struct emu_api **ret);
/* Frees api; NULL is fine. */
void emu_api_free(struct emu_api *api);
/* Tells the API its server (for the ingest host name and connection stats). */
void emu_api_set_http(struct emu_api *api, struct emu_http *http);
/* The ingest host name served by /v2/streaming/hostname (borrowed). */
const char *emu_api_ingest_host(const struct emu_api *api);
/* Applies a faults document ({"faults":[...]}, an array or one rule); -EINVAL with err. */
int emu_api_apply_faults(struct emu_api *api, json_t *doc, char *err, size_t errlen);
/* emu_http handler: answers one request. */
void emu_api_handle(void *api, struct emu_req *req);

#endif
