/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_codec: request-body decompression (Content-Encoding gzip, zstd or
 * none) with a cap on the output, so a small hostile body cannot expand
 * without bound.
 */
#ifndef EMU_CODEC_H
#define EMU_CODEC_H

#include <stddef.h>

/* Decodes in[0..len) per encoding (NULL/"identity"/"gzip"/"zstd") into
 * *ret (new, NUL-terminated) and *ret_len. -ENOTSUP unknown encoding,
 * -EINVAL corrupt data, -EFBIG output above cap. */
int emu_decompress(const char *encoding, const char *in, size_t len, size_t cap,
    char **ret, size_t *ret_len);

#endif
