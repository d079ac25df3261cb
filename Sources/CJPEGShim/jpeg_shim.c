#include "jpeg_shim.h"

// jpeglib.h needs FILE and size_t declared first.
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>
#include <setjmp.h>

// libjpeg calls error_exit on a fatal error; we record the message and jump
// back to the setjmp of jpegs_decode on this stack. Warnings (corrupt data
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
