#include "png_shim.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// libpng calls this on a fatal error; we record the message and jump back to
// the setjmp of the pngs_* function on this stack.
typedef struct {
    jmp_buf jump;
    char *err;
    char warning[PNGS_ERR_LEN]; // libpng explains "Invalid IHDR data" only in a warning
} error_context;

static void on_error(png_structp png, png_const_charp message) {
    error_context *ctx = (error_context *)png_get_error_ptr(png);
    if (ctx->warning[0])
        snprintf(ctx->err, PNGS_ERR_LEN, "%s (%s)", message, ctx->warning);
    else
        snprintf(ctx->err, PNGS_ERR_LEN, "%s", message);
    longjmp(ctx->jump, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    error_context *ctx = (error_context *)png_get_error_ptr(png);
    if (!ctx->warning[0]) snprintf(ctx->warning, PNGS_ERR_LEN, "%s", message);
}

typedef struct {
    const uint8_t *data;
    size_t length, position;
} memory_reader;

static void read_memory(png_structp png, png_bytep out, png_size_t count) {
    memory_reader *r = (memory_reader *)png_get_io_ptr(png);
    if (count > r->length - r->position) png_error(png, "file is truncated");
    memcpy(out, r->data + r->position, count);
    r->position += count;
}

static int is_little_endian(void) {
    const uint16_t probe = 1;
    return *(const uint8_t *)&probe == 1;
}

// Total length of the IDAT chunks, read from the chunk headers alone (the
// walk stops at IEND or at a chunk that runs past the end; libpng reports those).
static uint64_t idat_length(const uint8_t *data, size_t length) {
    uint64_t total = 0;
    size_t position = 8;
    while (length - position >= 12) {
        const uint8_t *chunk = data + position;
        uint32_t size = (uint32_t)chunk[0] << 24 | (uint32_t)chunk[1] << 16 | (uint32_t)chunk[2] << 8 | chunk[3];
        if (memcmp(chunk + 4, "IDAT", 4) == 0) total += size;
        if (memcmp(chunk + 4, "IEND", 4) == 0 || (uint64_t)size + 12 > length - position) break;
        position += 12 + (size_t)size;
    }
    return total;
}

// Deflate expands data at most 1032 times (258-byte matches of one bit each).
#define PNGS_MAX_DEFLATE_RATIO 1032

int pngs_decode(const uint8_t *data, size_t length, uint32_t max_width, uint32_t max_height,
                pngs_info *info, uint8_t *out, size_t out_length, char err[PNGS_ERR_LEN]) {
    err[0] = 0;
    memset(info, 0, sizeof *info);
    if (length < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(err, PNGS_ERR_LEN, "not a PNG file (bad signature)");
        return PNGS_E_NOT_PNG;
    }
    error_context ctx = {.err = err};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (!png) { snprintf(err, PNGS_ERR_LEN, "out of memory"); return PNGS_E_MEMORY; }
    png_infop pinfo = png_create_info_struct(png);
    png_bytep *volatile rows = NULL;
    if (!pinfo) { png_destroy_read_struct(&png, NULL, NULL); snprintf(err, PNGS_ERR_LEN, "out of memory"); return PNGS_E_MEMORY; }
    if (setjmp(ctx.jump)) {
        free(rows);
        png_destroy_read_struct(&png, &pinfo, NULL);
        return strstr(err, "exceeds user limit") ? PNGS_E_TOO_LARGE : PNGS_E_LIBPNG;
    }
    memory_reader reader = {data, length, 0};
    png_set_read_fn(png, &reader, read_memory);
#ifdef PNG_IGNORE_ADLER32
    // Every chunk's CRC is still checked, which already catches corrupt data;
    // zlib's second checksum over the same bytes costs ~10% of a decode.
    png_set_option(png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
    // The limit is checked while IHDR is parsed, before any pixel buffer exists.
    png_set_user_limits(png, max_width, max_height);
    png_read_info(png, pinfo);

    png_uint_32 width, height;
    int bit_depth, color_type, interlace;
    png_get_IHDR(png, pinfo, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    info->width = width;
    info->height = height;
    info->bit_depth = bit_depth;
    info->color_type = color_type;
    info->interlaced = interlace != PNG_INTERLACE_NONE;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        int count = 0;
        if (png_get_PLTE(png, pinfo, &palette, &count) && palette) {
            info->palette_count = count;
            for (int i = 0; i < count && i < 256; i++) {
                info->palette[3 * i] = palette[i].red;
                info->palette[3 * i + 1] = palette[i].green;
                info->palette[3 * i + 2] = palette[i].blue;
            }
        }
    }
    if (bit_depth < 8) png_set_packing(png); // one byte per sample, values unscaled
    if (bit_depth == 16 && is_little_endian()) png_set_swap(png);
    int passes = png_set_interlace_handling(png);
    (void)passes;
    png_read_update_info(png, pinfo);
    info->channels = png_get_channels(png, pinfo);
    info->sample_bytes = bit_depth == 16 ? 2 : 1;
    // A header may claim any size up to the limit; image data too short to
    // hold it is refused here, before the caller sizes a buffer from it.
    uint64_t packed = (uint64_t)width * height * (uint64_t)info->channels * (uint64_t)bit_depth / 8;
    uint64_t compressed = idat_length(data, length);
    if (packed / PNGS_MAX_DEFLATE_RATIO > compressed) {
        snprintf(err, PNGS_ERR_LEN, "%llu bytes of image data cannot hold a %ux%u image (%llu bytes unpacked)",
                 (unsigned long long)compressed, width, height, (unsigned long long)packed);
        png_destroy_read_struct(&png, &pinfo, NULL);
        return PNGS_E_LIBPNG;
    }

    if (!out) {
        png_destroy_read_struct(&png, &pinfo, NULL);
        return PNGS_OK;
    }
    size_t row_bytes = (size_t)width * info->channels * info->sample_bytes;
    if (png_get_rowbytes(png, pinfo) != row_bytes || out_length < row_bytes * height) {
        snprintf(err, PNGS_ERR_LEN, "output buffer does not match the image");
        png_destroy_read_struct(&png, &pinfo, NULL);
        return PNGS_E_ARGUMENT;
    }
    rows = malloc(sizeof(png_bytep) * (height ? height : 1));
    if (!rows) {
        png_destroy_read_struct(&png, &pinfo, NULL);
        snprintf(err, PNGS_ERR_LEN, "out of memory");
        return PNGS_E_MEMORY;
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = out + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL); // checks the CRCs and that IEND is present
    free(rows);
    png_destroy_read_struct(&png, &pinfo, NULL);
    return PNGS_OK;
}

typedef struct {
    uint8_t *data;
    size_t length, capacity;
    int failed;
} memory_writer;

static void write_memory(png_structp png, png_bytep bytes, png_size_t count) {
    memory_writer *w = (memory_writer *)png_get_io_ptr(png);
    if (w->length + count > w->capacity) {
        size_t capacity = w->capacity ? w->capacity : 65536;
        while (capacity < w->length + count) capacity *= 2;
        uint8_t *grown = realloc(w->data, capacity);
        if (!grown) { w->failed = 1; png_error(png, "out of memory"); }
        w->data = grown;
        w->capacity = capacity;
    }
    memcpy(w->data + w->length, bytes, count);
    w->length += count;
}

static void flush_memory(png_structp png) { (void)png; }

int pngs_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int color_type,
                int bit_depth, const uint8_t *palette, int palette_count, int compression_level,
                uint8_t **result, size_t *result_length, char err[PNGS_ERR_LEN]) {
    err[0] = 0;
    *result = NULL;
    *result_length = 0;
    int channels;
    switch (color_type) {
    case PNGS_GRAY: channels = 1; break;
    case PNGS_PALETTE: channels = 1; break;
    case PNGS_RGB: channels = 3; break;
    default: snprintf(err, PNGS_ERR_LEN, "unsupported colour type %d for writing", color_type); return PNGS_E_ARGUMENT;
    }
    if (!(bit_depth == 8 || (bit_depth == 16 && color_type == PNGS_GRAY)) || width == 0 || height == 0 ||
        (color_type == PNGS_PALETTE && (palette_count < 1 || palette_count > 256 || !palette))) {
        snprintf(err, PNGS_ERR_LEN, "unsupported image parameters for writing");
        return PNGS_E_ARGUMENT;
    }
    error_context ctx = {.err = err};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (!png) { snprintf(err, PNGS_ERR_LEN, "out of memory"); return PNGS_E_MEMORY; }
    png_infop pinfo = png_create_info_struct(png);
    memory_writer writer = {0};
    png_bytep *volatile rows = NULL;
    if (!pinfo) { png_destroy_write_struct(&png, NULL); snprintf(err, PNGS_ERR_LEN, "out of memory"); return PNGS_E_MEMORY; }
    if (setjmp(ctx.jump)) {
        free(rows);
        free(writer.data);
        png_destroy_write_struct(&png, &pinfo);
        return writer.failed ? PNGS_E_MEMORY : PNGS_E_LIBPNG;
    }
    png_set_write_fn(png, &writer, write_memory, flush_memory);
    png_set_compression_level(png, compression_level);
    png_set_IHDR(png, pinfo, width, height, bit_depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNGS_PALETTE) {
        png_color entries[256];
        for (int i = 0; i < palette_count; i++) {
            entries[i].red = palette[3 * i];
            entries[i].green = palette[3 * i + 1];
            entries[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, pinfo, entries, palette_count);
    }
    png_write_info(png, pinfo);
    if (bit_depth == 16 && is_little_endian()) png_set_swap(png);
    size_t row_bytes = (size_t)width * channels * (bit_depth / 8);
    rows = malloc(sizeof(png_bytep) * height);
    if (!rows) { writer.failed = 1; png_error(png, "out of memory"); }
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * row_bytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &pinfo);
    *result = writer.data;
    *result_length = writer.length;
    return PNGS_OK;
}

void pngs_free(void *p) { free(p); }
