// CGoBench: C shims for the harness only (perf_event_open, the SIGPROF
// handler, libunwind, libpfm4, zlib). Symbols are prefixed `cgb_`.
#ifndef CGOBENCH_GZIP_H
#define CGOBENCH_GZIP_H

#include <stdint.h>
#include <stddef.h>

/// gzip-compress `len` bytes of `src` into a malloc'ed buffer returned in
/// *out (length in *out_len). Returns 0 or a zlib error code.
int cgb_gzip(const uint8_t *src, size_t len, uint8_t **out, size_t *out_len);

/// gunzip (gzip or zlib framing); same contract as cgb_gzip.
int cgb_gunzip(const uint8_t *src, size_t len, uint8_t **out, size_t *out_len);

#endif
