#ifndef SEGSCOPE_MALLOC_TUNING_H
#define SEGSCOPE_MALLOC_TUNING_H

// Keeps blocks up to `mmap_threshold` bytes in the heap instead of fresh
// mmaps, and trims the heap only above `trim_threshold` (glibc mallopt,
// which Swift's Glibc module does not export).
void segscope_tune_malloc(int mmap_threshold, int trim_threshold);

#endif
