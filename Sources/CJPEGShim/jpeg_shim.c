#include "jpeg_shim.h"

// jpeglib.h needs FILE and size_t declared first.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <setjmp.h>

// libjpeg calls error_exit on a fatal error; we record the message and jump
// back to the setjmp of jpegs_decode or jpegs_encode on this stack. Warnings (corrupt data
// libjpeg would paper over) are fatal too.
typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char *err;
} error_context;

static void on_error(j_common_ptr cinfo) {
    error_context *ctx = (error_context *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, message);
    snprintf(ctx->err, JPEGS_ERR_LEN, "%s", message);
    longjmp(ctx->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
    // level -1: a warning about corrupt data; trace messages (level >= 0) are ignored.
    if (level < 0) on_error(cinfo);
}

int jpegs_decode(const uint8_t *data, size_t length, uint32_t max_side, jpegs_info *info,
                 uint8_t *out, size_t out_length, char err[JPEGS_ERR_LEN]) {
    err[0] = 0;
    memset(info, 0, sizeof *info);
    if (length < 3 || data[0] != 0xFF || data[1] != 0xD8) {
        snprintf(err, JPEGS_ERR_LEN, "not a JPEG file (no SOI marker)");
        return JPEGS_E_NOT_JPEG;
    }
    struct jpeg_decompress_struct cinfo;
    error_context ctx = {.err = err};
    cinfo.err = jpeg_std_error(&ctx.manager);
    ctx.manager.error_exit = on_error;
    ctx.manager.emit_message = on_message;
    volatile int code = JPEGS_OK;
    if (setjmp(ctx.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return code != JPEGS_OK ? code : JPEGS_E_LIBJPEG;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)length);
    jpeg_read_header(&cinfo, TRUE);
    info->width = cinfo.image_width;
    info->height = cinfo.image_height;
    info->components = cinfo.num_components;
    info->progressive = cinfo.progressive_mode ? 1 : 0;
    if (cinfo.image_width > max_side || cinfo.image_height > max_side) {
        snprintf(err, JPEGS_ERR_LEN, "image of %ux%u exceeds the limit of %u pixels a side",
                 cinfo.image_width, cinfo.image_height, max_side);
        jpeg_destroy_decompress(&cinfo);
        return JPEGS_E_TOO_LARGE;
    }
    if (cinfo.jpeg_color_space != JCS_GRAYSCALE && cinfo.jpeg_color_space != JCS_YCbCr && cinfo.jpeg_color_space != JCS_RGB) {
        snprintf(err, JPEGS_ERR_LEN, "%s JPEG is not supported (gray, RGB and YCbCr are)",
                 cinfo.jpeg_color_space == JCS_CMYK ? "CMYK" : cinfo.jpeg_color_space == JCS_YCCK ? "YCCK" : "this colour space of");
        jpeg_destroy_decompress(&cinfo);
        return JPEGS_E_UNSUPPORTED;
    }
    if (!out) {
        jpeg_destroy_decompress(&cinfo);
        return JPEGS_OK;
    }
    size_t row_bytes = (size_t)cinfo.image_width * 3;
    if (out_length < row_bytes * cinfo.image_height) {
        snprintf(err, JPEGS_ERR_LEN, "output buffer does not match the image");
        jpeg_destroy_decompress(&cinfo);
        return JPEGS_E_ARGUMENT;
    }
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + (size_t)cinfo.output_scanline * row_bytes;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return JPEGS_OK;
}

// The compressor's error context also holds the output buffer, which libjpeg
// grows through the pointer it was given: after a longjmp it is released, never
// leaked.
typedef struct {
    error_context errors;
    unsigned char *buffer;
    unsigned long length;
} encode_context;

int jpegs_encode(const uint8_t *rgb, size_t rgb_length, uint32_t width, uint32_t height, int quality,
                 uint8_t **out, size_t *out_length, char err[JPEGS_ERR_LEN]) {
    err[0] = 0;
    *out = NULL;
    *out_length = 0;
    // JPEG stores each side in 16 bits; libjpeg refuses more than 65500.
    if (width == 0 || height == 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        snprintf(err, JPEGS_ERR_LEN, "cannot encode %ux%u (each side 1-%ld)", width, height, (long)JPEG_MAX_DIMENSION);
        return JPEGS_E_ARGUMENT;
    }
    if (quality < 1 || quality > 100) {
        snprintf(err, JPEGS_ERR_LEN, "quality %d is not in 1-100", quality);
        return JPEGS_E_ARGUMENT;
    }
    size_t row_bytes = (size_t)width * 3;
    if (rgb_length != row_bytes * height) {
        snprintf(err, JPEGS_ERR_LEN, "input buffer does not match the image");
        return JPEGS_E_ARGUMENT;
    }
    struct jpeg_compress_struct cinfo;
    // On the heap: libjpeg moves ctx->buffer between setjmp and longjmp, and a local's value would be
    // indeterminate after the jump (C11 7.13.2.1); the pointer ctx itself does not change.
    encode_context *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        snprintf(err, JPEGS_ERR_LEN, "out of memory");
        return JPEGS_E_MEMORY;
    }
    ctx->errors.err = err;
    cinfo.err = jpeg_std_error(&ctx->errors.manager);
    ctx->errors.manager.error_exit = on_error;
    ctx->errors.manager.emit_message = on_message;
    if (setjmp(ctx->errors.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(ctx->buffer);
        free(ctx);
        return JPEGS_E_LIBJPEG;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &ctx->buffer, &ctx->length);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.optimize_coding = TRUE;
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        // libjpeg's row type is not const; it only reads the rows.
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * row_bytes);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = ctx->buffer;
    *out_length = ctx->length;
    free(ctx);
    return JPEGS_OK;
}

void jpegs_free(uint8_t *buffer) { free(buffer); }
