/*
 * mlp_int.h
 *	  What the MLP's files share (mlp.c: params, scoring, bytes; mlp_train.c:
 *	  training): the input rows of either element type and the standardised
 *	  input of a row.
 */
#ifndef SCFRISK_MLP_INT_H
#define SCFRISK_MLP_INT_H

#include <math.h>

#include "scfrisk/mlp.h"

/*
 * Training rows as doubles or as float32 (the row store's network rows):
 * exactly one of xd, xf is set.  A float32 element widens exactly, so both
 * give the same model for the same values.
 */
typedef struct mlp_rows
{
	const double *xd;			/* (n, d) doubles, or NULL */
	const float *xf;			/* (n, d) float32, or NULL */
} mlp_rows;

static inline double
mlp_rows_get(const mlp_rows *r, size_t k)
{
	return r->xd ? r->xd[k] : (double) r->xf[k];
}

/* Standardised network input of row 'row' of r into out (n_inputs floats). */
static inline void
mlp_input_row_of(const mlp_model *m, const mlp_rows *r, size_t row, float *out)
{
	uint32_t	j;
	int			k = (int) m->n_features;
	size_t		base = row * m->n_features;

	for (j = 0; j < m->n_features; j++)
	{
		double		v = mlp_rows_get(r, base + j);
		int			miss = isnan(v);

		out[j] = miss ? 0.0f : (float) ((v - m->mean[j]) / m->scale[j]);
		if (m->indicator[j])
			out[k++] = miss ? 1.0f : 0.0f;
	}
}

/* Standardised network input of one raw row into out (n_inputs floats). */
static inline void
mlp_input_row(const mlp_model *m, const double *x, float *out)
{
	mlp_rows	r = {x, NULL};

	mlp_input_row_of(m, &r, 0, out);
}

/* Allocate the input statistics of m for d raw features. */
extern sf_status mlp_alloc_inputs(sf_env *env, mlp_model *m, uint32_t d);

#endif							/* SCFRISK_MLP_INT_H */
