/*
 * array.h — growing a malloc'd array by doubling. The caller owns the array;
 * on failure NULL is returned and the old array is left untouched (still the
 * caller's to free).
 */
#ifndef CT_COMMON_ARRAY_H
#define CT_COMMON_ARRAY_H

#include <stdlib.h>

static inline void *array_grow(void *arr, size_t count, size_t *cap, size_t elem_size)
{
	if (count < *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *n = realloc(arr, ncap * elem_size);
	if (n)
		*cap = ncap;
	return n;
}

#endif
