/*
 * fuzz_rowstore.c
 *	  libFuzzer target for the check of serialised row-store states
 *	  (sf_rows_state_parse), which the parallel training aggregates run on
 *	  every partial state before copying it.  Any byte string must be
 *	  accepted or refused with a status and a message; an accepted state
 *	  must lie inside the input, and its rows must widen and sort in
 *	  canonical order without a sanitizer report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_rowstore.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every kind the server defines has one of these shapes. */
static const sf_rows_kind k_trees = {1, SF_ROWS_FLOAT4, 1, 1, 4096};
static const sf_rows_kind k_net = {2, SF_ROWS_FLOAT4, 0, 1, 1 << 20};
static const sf_rows_kind k_linear = {3, SF_ROWS_FLOAT8, 0, 0, 1 << 20};
static const sf_rows_kind k_deepfm = {6, SF_ROWS_FLOAT4, 0, 0, 1024};
static const sf_rows_kind *const kinds[] = {&k_trees, &k_net, &k_linear, &k_deepfm};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;
	sf_rows_state rs;
	uint8_t    *buf = malloc(size ? size : 1);
	sf_status	st;

	memcpy(buf, data, size);
	sf_env_init_malloc(&env);
	st = sf_rows_state_parse(&env, buf, size, kinds, 4, &rs);
	if (st != SF_OK)
	{
		if (env.msg == NULL)
			abort();
	}
	else
	{
		size_t		n = (size_t) rs.h.n_rows,
					xb = n * rs.h.elem * (size_t) rs.h.n_cols;
		void	   *x = malloc(xb ? xb : 1);
		double	   *y = malloc(n ? n * sizeof(double) : 1);
		double	   *w = rs.w ? malloc(n ? n * sizeof(double) : 1) : NULL;
		double	   *wide = malloc(xb ? n * sizeof(double) * rs.h.n_cols : 1);
		size_t	   *perm = malloc(n ? n * sizeof(size_t) : 1);
		const uint8_t *end = (rs.w ? rs.w : rs.y) + n * sizeof(double);

		if (end != buf + size || (rs.params && (const uint8_t *) rs.params < buf))
			abort();
		memcpy(x, rs.x, xb);
		memcpy(y, rs.y, n * sizeof(double));
		if (w)
			memcpy(w, rs.w, n * sizeof(double));
		if (sf_rows_canonical_order(&env, (sf_rows_elem) rs.h.elem, x, y, w, n,
									(uint32_t) rs.h.n_cols, perm) != SF_OK)
			abort();
		sf_rows_widen((sf_rows_elem) rs.h.elem, x, n, (uint32_t) rs.h.n_cols,
					  (uint32_t) rs.h.n_cat, perm, wide);
		free(x);
		free(y);
		free(w);
		free(wide);
		free(perm);
	}
	free(buf);
	return 0;
}
