/*
 * test_rowstore.c
 *	  Unit tests of the row store's pure part: the canonical order is a
 *	  permutation, is the same for every input order of the same rows (the
 *	  property that makes models byte-identical across plans), is sorted by
 *	  the row hash, and widening keeps float32 values and int32 ids exactly.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/deepfm.h"
#include "scfrisk/mlp.h"
#include "scfrisk/sf_params.h"
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

/* A float8 state of kind k_lin: 2 rows x 2 columns, params text. */
static const sf_rows_kind k_lin = {3, SF_ROWS_FLOAT8, 0, 0, 100};
static const sf_rows_kind k_fm = {6, SF_ROWS_FLOAT4, 0, 0, 100};

static size_t
make_state(uint8_t *buf, const sf_rows_kind *k, const double *xv, int n_cols, int n_cat,
		   const double *yv, int n_rows, const char *params)
{
	sf_rows_header h;
	size_t		off = sizeof(h);
	int			i;

	memset(&h, 0, sizeof(h));
	h.magic = SF_ROWS_MAGIC;
	h.kind_id = k->id;
	h.elem = k->elem;
	h.weighted = k->weighted;
	h.n_cols = n_cols;
	h.n_cat = n_cat;
	h.n_rows = n_rows;
	h.params_len = params ? (int32_t) strlen(params) + 1 : 0;
	memcpy(buf, &h, sizeof(h));
	if (params)
		memcpy(buf + off, params, h.params_len);
	off += h.params_len;
	for (i = 0; i < n_rows * n_cols; i++)
	{
		if (k->elem == SF_ROWS_FLOAT8)
			memcpy(buf + off, &xv[i], 8);
		else if (i % n_cols >= n_cols - n_cat)
		{
			int32_t		id = (int32_t) xv[i];

			memcpy(buf + off, &id, 4);
		}
		else
		{
			float		f = (float) xv[i];

			memcpy(buf + off, &f, 4);
		}
		off += k->elem;
	}
	memcpy(buf + off, yv, sizeof(double) * n_rows);
	return off + sizeof(double) * n_rows;
}

SF_TEST(test_state_parse)
{
	static const sf_rows_kind *const lin[] = {&k_lin};
	static const sf_rows_kind *const fm[] = {&k_fm};
	uint8_t		buf[512];
	double		xv[4] = {1, 2, 3, 4},
				yv[2] = {0, 1};
	sf_env		env;
	sf_rows_state rs;
	size_t		len;
	double		bad;

	sf_env_init_malloc(&env);
	len = make_state(buf, &k_lin, xv, 2, 0, yv, 2, "{\"C\": 1}");
	SF_OK(sf_rows_state_parse(&env, buf, len, lin, 1, &rs) == SF_OK && rs.h.n_rows == 2 &&
		  rs.params && strcmp(rs.params, "{\"C\": 1}") == 0 && rs.kind == &k_lin, "a valid state parses");
	SF_OK(sf_rows_state_parse(&env, buf, len - 1, lin, 1, &rs) == SF_ECORRUPT && env.msg, "truncated: corrupt");
	SF_OK(sf_rows_state_parse(&env, buf, 10, lin, 1, &rs) == SF_ECORRUPT, "shorter than the header: corrupt");
	SF_OK(sf_rows_state_parse(&env, buf, len, fm, 1, &rs) == SF_ECORRUPT, "another aggregate's state: corrupt");
	buf[0] ^= 1;
	SF_OK(sf_rows_state_parse(&env, buf, len, lin, 1, &rs) == SF_ECORRUPT, "bad magic: corrupt");
	bad = NAN;
	yv[1] = bad;
	len = make_state(buf, &k_lin, xv, 2, 0, yv, 2, NULL);
	SF_OK(sf_rows_state_parse(&env, buf, len, lin, 1, &rs) == SF_ECORRUPT, "NaN label: corrupt");
	yv[1] = 1;
	xv[3] = bad;
	len = make_state(buf, &k_lin, xv, 2, 0, yv, 2, NULL);
	SF_OK(sf_rows_state_parse(&env, buf, len, lin, 1, &rs) == SF_ECORRUPT, "NaN element without missing values: corrupt");
	xv[3] = INFINITY;
	len = make_state(buf, &k_fm, xv, 2, 0, yv, 2, NULL);
	SF_OK(sf_rows_state_parse(&env, buf, len, fm, 1, &rs) == SF_ECORRUPT, "infinite element: corrupt");
	xv[3] = -4;
	len = make_state(buf, &k_fm, xv, 2, 1, yv, 2, NULL);
	SF_OK(sf_rows_state_parse(&env, buf, len, fm, 1, &rs) == SF_ECORRUPT, "negative id: corrupt");
	xv[3] = 4;
	len = make_state(buf, &k_fm, xv, 2, 1, yv, 2, NULL);
	SF_OK(sf_rows_state_parse(&env, buf, len, fm, 1, &rs) == SF_OK, "ids >= 0 parse");
	len = make_state(buf, &k_fm, xv, 2, 3, yv, 2, NULL);
	SF_OK(sf_rows_state_parse(&env, buf, len, fm, 1, &rs) == SF_ECORRUPT, "more id columns than columns: corrupt");
	len = make_state(buf, &k_lin, xv, 2, 0, yv, 2, "{\"C\": 1}");
	buf[sizeof(sf_rows_header) + 8] = 'x';	/* the params' NUL */
	SF_OK(sf_rows_state_parse(&env, buf, len, lin, 1, &rs) == SF_ECORRUPT, "params without their NUL: corrupt");
	len = make_state(buf, &k_lin, xv, 0, 0, yv, 0, "{}");
	SF_OK(sf_rows_state_parse(&env, buf, len, lin, 1, &rs) == SF_OK && rs.h.n_cols == 0,
		  "a state with params and no rows parses");
}

/* mlp_fit_f32 on float32 rows is mlp_fit on the same values as doubles. */
SF_TEST(test_mlp_f32_rows)
{
	static double xw[N * D];
	mlp_params	p;
	mlp_model	a,
				b;
	sf_env		env;
	int			i,
				same;

	sf_env_init_malloc(&env);
	for (i = 0; i < N * D; i++)
		xw[i] = xf[i];
	sf_params_defaults(&mlp_params_table, &p);
	mlp_params_default_hidden(&p);
	p.epochs = 3;
	p.missing_indicator = 1;
	SF_OK(mlp_fit(&env, &p, xw, y, N, D, &a) == SF_OK, "fit on doubles");
	SF_OK(mlp_fit_f32(&env, &p, xf, y, N, D, &b) == SF_OK, "fit on float32 rows");
	same = a.n_inputs == b.n_inputs && a.net.n_params == b.net.n_params &&
		memcmp(a.mean, b.mean, sizeof(double) * D) == 0 &&
		memcmp(a.scale, b.scale, sizeof(double) * D) == 0 &&
		memcmp(a.net.params, b.net.params, sizeof(float) * a.net.n_params) == 0;
	SF_OK(same, "the same statistics and weights, bit for bit");
	mlp_free(&env, &a);
	mlp_free(&env, &b);
}

/* deepfm_fit_f32 on float32 rows with int32 ids is deepfm_fit on their doubles. */
SF_TEST(test_deepfm_f32_rows)
{
	static float xr[N * 3];
	static double xw[N * 3],
				s[N];
	deepfm_params p;
	deepfm_model *a = NULL,
			   *b = NULL;
	sf_buf		ba,
				bb;
	sf_env		env;
	int			i;

	sf_env_init_malloc(&env);
	for (i = 0; i < N; i++)
	{
		int32_t		id0 = 16777216 + i % 3,	/* past 2^24: not float32 numbers */
					id1 = i % 4;

		xr[i * 3] = xf[i * D];
		memcpy(&xr[i * 3 + 1], &id0, 4);
		memcpy(&xr[i * 3 + 2], &id1, 4);
		xw[i * 3] = xf[i * D];
		xw[i * 3 + 1] = id0;
		xw[i * 3 + 2] = id1;
		s[i] = 1.0 + y[i] + 0.1 * (i % 3) + xw[i * 3];
	}
	sf_params_defaults(&deepfm_params_table, &p);
	deepfm_params_default_layers(&p);
	p.epochs = 2;
	p.m = 5;
	p.threads = 1;
	SF_OK(deepfm_fit(&env, &p, xw, s, N, 1, 2, &a) == SF_OK, "fit on doubles: %s", env.msg ? env.msg : "ok");
	SF_OK(deepfm_fit_f32(&env, &p, xr, s, N, 1, 2, &b) == SF_OK, "fit on float32 rows: %s", env.msg ? env.msg : "ok");
	if (a == NULL || b == NULL)
		return;
	sf_buf_init(&ba, &env);
	sf_buf_init(&bb, &env);
	SF_OK(deepfm_encode(&env, a, &ba) == SF_OK && deepfm_encode(&env, b, &bb) == SF_OK &&
		  ba.len == bb.len && memcmp(ba.data, bb.data, ba.len) == 0,
		  "the same model bytes (ids past 2^24 stay distinct)");
	sf_buf_free(&ba);
	sf_buf_free(&bb);
	deepfm_free(&env, a);
	deepfm_free(&env, b);
}

int
main(void)
{
	make_rows();
	SF_RUN(test_canonical_float4_weighted);
	SF_RUN(test_canonical_float8);
	SF_RUN(test_hash_compatible);
	SF_RUN(test_widen);
	SF_RUN(test_state_parse);
	SF_RUN(test_mlp_f32_rows);
	SF_RUN(test_deepfm_f32_rows);
	return sf_test_done();
}
