/*
 * test_rowstore.c
 *	  Unit tests of the row store's pure part: the canonical order is a
 *	  permutation, is the same for every input order of the same rows (the
 *	  property that makes models byte-identical across plans), is sorted by
 *	  the row hash, and widening keeps float32 values and int32 ids exactly.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/sf_rowstore.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

#define N 500
#define D 3

/* rows of both element types, with duplicates and ties on x */
static float xf[N * D];
static double xd[N * D];
static double y[N];
static double w[N];

static void
make_rows(void)
{
	sf_rng		r;
	int			i,
				j;

	sf_rng_init(&r, 5, 0);
	for (i = 0; i < N; i++)
	{
		for (j = 0; j < D; j++)
		{
			/* few distinct values so many rows share x and differ in y or w */
			double		v = (double) (sf_rng_next(&r) % 4) * 0.25;

			xd[i * D + j] = (i % 50 == 7 && j == 1) ? NAN : v;
			xf[i * D + j] = (float) xd[i * D + j];
		}
		y[i] = (double) (sf_rng_next(&r) % 2);
		w[i] = 1.0 + (double) (sf_rng_next(&r) % 3);
	}
}

/* Rows permuted by p into the *_p arrays, then both orders canonicalised. */
static int
same_canonical(sf_rows_elem elem, const double *wp_in, int *is_perm, int *sorted)
{
	static float xf_p[N * D];
	static double xd_p[N * D], y_p[N], w_p[N];
	static uint32_t p[N];
	static size_t a[N], b[N];
	sf_env		env;
	sf_rng		r;
	int			i,
				seen[N] = {0},
				same = 1;
	const void *x = elem == SF_ROWS_FLOAT4 ? (const void *) xf : (const void *) xd;
	const void *x_p = elem == SF_ROWS_FLOAT4 ? (const void *) xf_p : (const void *) xd_p;
	size_t		rb = (size_t) elem * D;

	sf_env_init_malloc(&env);
	for (i = 0; i < N; i++)
		p[i] = (uint32_t) i;
	sf_rng_init(&r, 11, 0);
	sf_rng_shuffle_u32(&r, p, N);
	for (i = 0; i < N; i++)
	{
		memcpy(&xf_p[i * D], &xf[p[i] * D], sizeof(float) * D);
		memcpy(&xd_p[i * D], &xd[p[i] * D], sizeof(double) * D);
		y_p[i] = y[p[i]];
		w_p[i] = w[p[i]];
	}
	if (sf_rows_canonical_order(&env, elem, x, y, wp_in, N, D, a) != SF_OK ||
		sf_rows_canonical_order(&env, elem, x_p, y_p, wp_in ? w_p : NULL, N, D, b) != SF_OK)
		return 0;
	*is_perm = 1;
	*sorted = 1;
	for (i = 0; i < N; i++)
	{
		*is_perm &= a[i] < N && !seen[a[i]];
		seen[a[i] < N ? a[i] : 0] = 1;
		/* the same row contents at each position, whatever the input order */
		same &= memcmp((const char *) x + a[i] * rb, (const char *) x_p + b[i] * rb, rb) == 0 &&
			y[a[i]] == y_p[b[i]] && (!wp_in || w[a[i]] == w_p[b[i]]);
		if (i > 0)
			*sorted &= sf_rows_hash(elem, (const char *) x + a[i - 1] * rb, D, y[a[i - 1]],
									wp_in ? &w[a[i - 1]] : NULL)
				<= sf_rows_hash(elem, (const char *) x + a[i] * rb, D, y[a[i]],
								wp_in ? &w[a[i]] : NULL);
	}
	return same;
}

SF_TEST(test_canonical_float4_weighted)
{
	int			is_perm = 0,
				sorted = 0;

	SF_OK(same_canonical(SF_ROWS_FLOAT4, w, &is_perm, &sorted), "float32 rows with weights: same order for a shuffled input");
	SF_OK(is_perm, "the order is a permutation");
	SF_OK(sorted, "rows are sorted by their hash");
}

SF_TEST(test_canonical_float8)
{
	int			is_perm = 0,
				sorted = 0;

	SF_OK(same_canonical(SF_ROWS_FLOAT8, NULL, &is_perm, &sorted), "float8 rows without weights: same order for a shuffled input");
	SF_OK(is_perm, "the order is a permutation");
	SF_OK(sorted, "rows are sorted by their hash");
}

/* The hash the tree and MLP aggregates used before the shared store. */
SF_TEST(test_hash_compatible)
{
	float		xr[2] = {0.5f, -2.0f};
	double		xdr[2] = {0.5, -2.0};
	double		yv = 1.0,
				wv = 1.0;
	uint64_t	h = 0x9E3779B97F4A7C15ULL,
				b;
	uint32_t	u;
	int			j;

	for (j = 0; j < 2; j++)
	{
		memcpy(&u, &xr[j], 4);
		h ^= u;
		h = sf_splitmix64(&h);
	}
	memcpy(&b, &yv, 8);
	h ^= b;
	h = sf_splitmix64(&h);
	memcpy(&b, &wv, 8);
	h ^= b;
	h = sf_splitmix64(&h);
	SF_OK(sf_rows_hash(SF_ROWS_FLOAT4, xr, 2, yv, &wv) == h, "float32 row hash as the tree aggregate's");
	h = 0x9E3779B97F4A7C15ULL;
	for (j = 0; j <= 2; j++)
	{
		double		v = j < 2 ? xdr[j] : yv;

		memcpy(&b, &v, 8);
		h ^= b;
		h = sf_splitmix64(&h);
	}
	SF_OK(sf_rows_hash(SF_ROWS_FLOAT8, xdr, 2, yv, NULL) == h, "float8 row hash as the MLP aggregate's");
}

SF_TEST(test_widen)
{
	float		row[3];
	int32_t		id = 16777217;	/* 2^24 + 1: not a float32 */
	double		out[6];
	size_t		perm[2] = {1, 0};
	float		rows[6];

	row[0] = 0.1f;
	row[1] = NAN;
	memcpy(&row[2], &id, 4);
	memcpy(rows, row, sizeof(row));
	rows[3] = -3.5f;
	rows[4] = 1e30f;
	id = 0;
	memcpy(&rows[5], &id, 4);
	sf_rows_widen(SF_ROWS_FLOAT4, rows, 2, 3, 1, perm, out);
	SF_OK(out[0] == -3.5 && out[1] == (double) 1e30f && out[2] == 0.0, "perm picks row 1 first");
	SF_OK(out[3] == (double) 0.1f && isnan(out[4]) && out[5] == 16777217.0,
		  "float32 widens exactly, NaN stays missing, ids stay exact");
}

int
main(void)
{
	make_rows();
	SF_RUN(test_canonical_float4_weighted);
	SF_RUN(test_canonical_float8);
	SF_RUN(test_hash_compatible);
	SF_RUN(test_widen);
	return sf_test_done();
}
