// gzip for pprof profiles (profile.proto is stored gzipped). zlib is linked
// only into CGoBench.
#include "CGoBenchGzip.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int cgb_gzip(const uint8_t *src, size_t len, uint8_t **out, size_t *out_len) {
    z_stream s;
    memset(&s, 0, sizeof s);
    int rc = deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) return rc;
    size_t cap = deflateBound(&s, (uLong)len) + 32;
    uint8_t *buf = malloc(cap);
    if (!buf) { deflateEnd(&s); return Z_MEM_ERROR; }
    s.next_in = (Bytef *)src;
    s.avail_in = (uInt)len;
    s.next_out = buf;
    s.avail_out = (uInt)cap;
    rc = deflate(&s, Z_FINISH);
    if (rc != Z_STREAM_END) { free(buf); deflateEnd(&s); return rc == Z_OK ? Z_BUF_ERROR : rc; }
    *out = buf;
    *out_len = s.total_out;
    deflateEnd(&s);
    return 0;
}

int cgb_gunzip(const uint8_t *src, size_t len, uint8_t **out, size_t *out_len) {
    z_stream s;
    memset(&s, 0, sizeof s);
    int rc = inflateInit2(&s, 15 + 32);  // auto-detect gzip or zlib header
    if (rc != Z_OK) return rc;
    size_t cap = len * 4 + 1024, used = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) { inflateEnd(&s); return Z_MEM_ERROR; }
    s.next_in = (Bytef *)src;
    s.avail_in = (uInt)len;
    for (;;) {
        if (used == cap) {
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) { free(buf); inflateEnd(&s); return Z_MEM_ERROR; }
            buf = nb;
        }
        s.next_out = buf + used;
        s.avail_out = (uInt)(cap - used);
        rc = inflate(&s, Z_NO_FLUSH);
        used = cap - s.avail_out;
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK) { free(buf); inflateEnd(&s); return rc == Z_BUF_ERROR ? Z_DATA_ERROR : rc; }
    }
    *out = buf;
    *out_len = used;
    inflateEnd(&s);
    return 0;
}
