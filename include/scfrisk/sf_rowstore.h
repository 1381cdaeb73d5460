/*
 * sf_rowstore.h
 *	  The pure part of the training aggregates' shared row store
 *	  (src/core/rowstore_pg.c): the canonical row order and the widening of stored
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
 * What one aggregate's store looks like; a serialised state names its kind
 * by id, and a reader accepts only the kinds it lists.
 */
typedef struct sf_rows_kind
{
	uint8_t		id;				/* unique per aggregate (1..255) */
	uint8_t		elem;			/* sf_rows_elem of the x matrix */
	uint8_t		weighted;		/* 1: a weight column is kept */
	uint8_t		missing_ok;		/* 1: NaN elements (missing values) may be stored */
	int32_t		max_cols;		/* widest row accepted */
} sf_rows_kind;

/*
 * Serialised state (bytes that only travel between the workers of one
 * server, so native byte order): this header, the params as jsonb text with
 * its NUL (params_len bytes, 0 = none), then x (n_rows, n_cols) of the
 * kind's element type, y (n_rows) and, for a weighted kind, w (n_rows) as
 * float8.  Id columns of a float32 store hold int32 bits.
 */
#define SF_ROWS_MAGIC 0x53465253	/* "SFRS" */

typedef struct sf_rows_header
{
	uint32_t	magic;			/* SF_ROWS_MAGIC */
	uint8_t		kind_id;		/* sf_rows_kind.id of the writer */
	uint8_t		elem;			/* sf_rows_elem */
	uint8_t		weighted;		/* 1: w follows y */
	uint8_t		reserved;		/* 0 */
	int32_t		n_cols;			/* columns per row; 0 when no row fixed it */
	int32_t		n_cat;			/* trailing id columns */
	int64_t		n_rows;			/* rows */
	int32_t		params_len;		/* bytes of params text incl. NUL, 0 = none */
	int32_t		reserved2;		/* 0 */
} sf_rows_header;

/* A serialised state checked by sf_rows_state_parse; pointers into its bytes. */
typedef struct sf_rows_state
{
	sf_rows_header h;			/* the header, copied out (aligned) */
	const sf_rows_kind *kind;	/* the accepted kind it names */
	const char *params;			/* NUL-terminated params text, or NULL */
	const uint8_t *x;			/* x bytes (unaligned: copy before use) */
	const uint8_t *y;			/* y bytes */
	const uint8_t *w;			/* w bytes, or NULL */
} sf_rows_state;

/*
 * Check the serialised state buf (len bytes) against the kinds the caller
 * accepts (kinds, n_kinds) and point *out into it.  Total: truncated bytes,
 * another aggregate's state, inconsistent counts or lengths, non-finite
 * labels, negative or non-finite weights, infinite elements (NaN ones unless
 * the kind has missing_ok) and ids that are negative or not integers give
 * SF_ECORRUPT with a message.  Polls env's interrupt callback.
 */
extern sf_status sf_rows_state_parse(sf_env *env, const uint8_t *buf, size_t len,
									 const sf_rows_kind *const *kinds, int n_kinds,
									 sf_rows_state *out);

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
