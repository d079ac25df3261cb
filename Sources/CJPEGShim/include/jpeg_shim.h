// A setjmp-owning wrapper around libjpeg(-turbo). Every function returns 0 on
// success and a negative JPEGS_E* code on failure with a message in `err`; a
// libjpeg error longjmps back into the C function that called it and never
// into Swift.
#ifndef SEGSCOPE_JPEG_SHIM_H
#define SEGSCOPE_JPEG_SHIM_H

#include <stddef.h>
#include <stdint.h>

#define JPEGS_ERR_LEN 256

enum {
    JPEGS_OK = 0,
    JPEGS_E_NOT_JPEG = -1,    // no SOI marker
    JPEGS_E_LIBJPEG = -2,     // libjpeg reported a corrupt stream (message in err)
    JPEGS_E_TOO_LARGE = -3,   // declared size above the caller's limit
    JPEGS_E_MEMORY = -4,      // allocation failed
    JPEGS_E_ARGUMENT = -5,    // the caller's buffer does not fit
    JPEGS_E_UNSUPPORTED = -6, // a colour space that is not gray, RGB or YCbCr (CMYK, YCCK)
};

typedef struct {
    uint32_t width, height;
    int components;   // in the file: 1 (gray), 3 (YCbCr or RGB), 4 (CMYK, YCCK)
    int progressive;  // 1 for progressive JPEG
} jpegs_info;

// Decodes a whole JPEG held in memory to 8-bit RGB (gray is replicated).
// Pass out == NULL to read only the header into info (after checking the size
// limit). Otherwise out must hold width * height * 3 bytes. Corrupt data that
// libjpeg would only warn about (a truncated stream it pads with gray) is an
// error here: a frame with invented pixels must not be evaluated as real.
int jpegs_decode(const uint8_t *data, size_t length, uint32_t max_side, jpegs_info *info,
                 uint8_t *out, size_t out_length, char err[JPEGS_ERR_LEN]);

// Encodes 8-bit RGB (width * height * 3 bytes) as a baseline JPEG of the given
// quality (1-100; 4:2:0 chroma, optimised Huffman tables, so the same pixels
// give the same bytes). On success *out holds *out_length bytes that the
// caller releases with jpegs_free; on failure *out is NULL.
int jpegs_encode(const uint8_t *rgb, size_t rgb_length, uint32_t width, uint32_t height, int quality,
                 uint8_t **out, size_t *out_length, char err[JPEGS_ERR_LEN]);

void jpegs_free(uint8_t *buffer);

#endif
