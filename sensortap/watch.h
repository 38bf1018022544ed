/* SPDX-License-Identifier: Apache-2.0 */
/*
 * watch: sensortap --watch, the live view on a terminal. It replays the
 * journal's last ten minutes, then follows sensord live, reads streamerd's
 * metrics file every second, and redraws the screen (view.h) in place:
 * on the alternate screen, cursor home, each line cleared to its end, so
 * nothing flickers; a resize (SIGWINCH) redraws at the new size. q,
 * Ctrl-C, SIGTERM and SIGHUP end it and give the terminal back as it was.
 *
 * Colour only on a terminal and without NO_COLOR. When standard output is
 * not a terminal there are no escape sequences at all: a plain frame every
 * two seconds, 100 columns wide, until interrupted or the reader goes.
 *
 * When sensord goes away the view stays, says so, and reconnects every two
 * seconds from the record after the newest it has.
 */
#ifndef SNOWSENSE_WATCH_H
#define SNOWSENSE_WATCH_H

#include "sdsock.h"

/* Runs the view on connection c (steals it: hello said and answered) to
 * sensord at path, with streamerd's metrics file at metrics (both
 * borrowed). Returns 0 when the user quit, or 1 after a failure it has
 * described on stderr. */
int watch_run(struct sdsock *c, const char *path, const char *metrics);

#endif
