/*
 * sf_rowstore.h
 *	  The pure part of the training aggregates' shared row store
 *	  (src/rowstore.c): the canonical row order and the widening of stored
 *	  rows to the double matrices the cores take.
 *
 * A store holds n rows of n_cols elements, each a float32 or a float8 (the
 * element type is fixed when the store is created), plus a label per row and
 * an optional weight.  The last n_cat columns may hold categorical ids:
 * int32 values, kept bit for bit in a float32 store and as exact doubles in
 * a float8 store.  The canonical order sorts rows by a 64-bit hash of their
 * bytes (elements, then label, then weight), ties by the bytes themselves,
 * so a trainer that reads rows in that order sees the same sequence whatever
 * order the scan or the parallel plan delivered them in.
 */
#ifndef SCFRISK_SF_ROWSTORE_H
#define SCFRISK_SF_ROWSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "scfrisk/sf_core.h"

/* Element type of a store's x matrix; the value is the element size. */
typedef enum sf_rows_elem
{
	SF_ROWS_FLOAT4 = 4,			/* float32: trees and networks */
	SF_ROWS_FLOAT8 = 8			/* float8: linear models compared to tight tolerances */
} sf_rows_elem;

/*
 * Hash of one row: x_row holds n_cols elements of type elem, y its label, w
 * its weight (NULL when the store has no weight column).  splitmix64 mixing
 * of each element's bits, then the label's and the weight's.
 */
extern uint64_t sf_rows_hash(sf_rows_elem elem, const void *x_row, uint32_t n_cols,
							 double y, const double *w);

/*
 * The canonical order of n rows: perm (n) receives, for each position, the
 * index of the input row placed there.  x is (n, n_cols) row-major of type
 * elem, y (n), w (n) or NULL.  Polls env's interrupt callback (SF_ECANCEL);
 * SF_ENOMEM when the sort keys cannot be allocated.
 */
extern sf_status sf_rows_canonical_order(sf_env *env, sf_rows_elem elem, const void *x,
										 const double *y, const double *w, size_t n,
										 uint32_t n_cols, size_t *perm);

/*
 * Copy rows to a double matrix out (n, n_cols): row i of out is input row
 * perm[i] (perm NULL: row i).  Float32 elements widen exactly; the last n_cat
 * columns of a float32 store are int32 ids and become their integer value.
 */
extern void sf_rows_widen(sf_rows_elem elem, const void *x, size_t n, uint32_t n_cols,
						  uint32_t n_cat, const size_t *perm, double *out);

#endif							/* SCFRISK_SF_ROWSTORE_H */
