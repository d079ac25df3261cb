// A setjmp-owning wrapper around libpng. Every function here returns 0 on success
// and a negative PNGS_E* code on failure with a message in `err`; a libpng error
// longjmps back into the C function that called it and never into Swift.
#ifndef SEGSCOPE_PNG_SHIM_H
#define SEGSCOPE_PNG_SHIM_H

#include <stddef.h>
#include <stdint.h>

#define PNGS_ERR_LEN 256

enum {
    PNGS_OK = 0,
    PNGS_E_NOT_PNG = -1,   // missing or wrong 8-byte signature
    PNGS_E_LIBPNG = -2,    // libpng reported a corrupt stream (message in err)
    PNGS_E_TOO_LARGE = -3, // declared size above the caller's limit
    PNGS_E_MEMORY = -4,    // allocation failed
    PNGS_E_ARGUMENT = -5,  // the caller's buffer or parameters do not fit
};

// PNG colour types, as in the IHDR chunk.
enum { PNGS_GRAY = 0, PNGS_RGB = 2, PNGS_PALETTE = 3, PNGS_GRAY_ALPHA = 4, PNGS_RGBA = 6 };

typedef struct {
    uint32_t width, height;
    int bit_depth;        // as stored: 1, 2, 4, 8 or 16
    int color_type;       // PNGS_* colour type
    int interlaced;       // 1 for Adam7
    int channels;         // samples per pixel after decoding (palette: 1 index)
    int sample_bytes;     // 1 (bit depth <= 8) or 2 (16-bit, native byte order)
    int palette_count;    // entries in PLTE (palette images), else 0
    uint8_t palette[256 * 3];
} pngs_info;

// Decodes a whole PNG held in memory. Pass out == NULL to read only the header
// into info (after checking the size limit). Otherwise out must hold
// width * height * channels * sample_bytes bytes; samples are unscaled
// (sub-byte gray and palette indices unpacked one per byte, 16-bit in native
// byte order), palette images stay indices.
int pngs_decode(const uint8_t *data, size_t length, uint32_t max_width, uint32_t max_height,
                pngs_info *info, uint8_t *out, size_t out_length, char err[PNGS_ERR_LEN]);

// Encodes one image to a malloc'ed PNG stream (*result, *result_length; free with
// pngs_free). color_type is PNGS_GRAY (bit_depth 8 or 16), PNGS_PALETTE (8, with
// palette_count RGB entries) or PNGS_RGB (8). 16-bit pixels are native byte order.
int pngs_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int color_type,
                int bit_depth, const uint8_t *palette, int palette_count, int compression_level,
                uint8_t **result, size_t *result_length, char err[PNGS_ERR_LEN]);

void pngs_free(void *p);

#endif
