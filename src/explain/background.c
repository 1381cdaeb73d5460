/*
 * background.c
 *	  The background sample section (SF_TAG_BACKGROUND) of a model: drawing
 *	  it from the training rows, its bytes, its checks, and inserting an
 *	  optional common section into finished model bytes.
 *
 * Section body, little-endian (docs/format.md):
 *	  u32 rows (1..SF_BACKGROUND_MAX_ROWS), u32 cols (= the header's
 *	  n_features), u32 permutations (even, >= 2), u64 seed,
 *	  rows x cols f64 (NaN = missing; infinities are rejected)
 */
#include <math.h>
#include <string.h>

#include "scfrisk/sf_explain.h"
#include "scfrisk/sf_governance.h"
#include "scfrisk/sf_rng.h"

sf_status
sf_background_sample(sf_env *env, const double *xd, const float *xf, size_t n, uint32_t d,
					 uint64_t seed, sf_background *out)
{
	uint32_t	rows = n < SF_BACKGROUND_ROWS ? (uint32_t) n : SF_BACKGROUND_ROWS;
	uint32_t	pairs;
	size_t		i,
				taken = 0;
	sf_rng		rng;

	memset(out, 0, sizeof(*out));
	if (rows == 0 || d == 0)
		return sf_fail(env, SF_EDATA, "no rows to draw a background sample from");
	out->x = sf_malloc(env, sizeof(double) * (size_t) rows * d);
	if (out->x == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the background sample");
	out->n_rows = rows;
	out->n_cols = d;
	out->seed = seed;
	/* pairs of walks: a whole number of passes over the rows, about
	 * SF_SHAPLEY_PERMUTATIONS / 2, so every row weighs the same in the bias */
	pairs = (SF_SHAPLEY_PERMUTATIONS / 2 + rows / 2) / rows;
	out->n_permutations = 2 * rows * (pairs > 0 ? pairs : 1);

	/* selection sampling (Knuth's algorithm S): order kept, one pass */
	sf_rng_init(&rng, seed, 0x4247);	/* "BG" */
	for (i = 0; i < n && taken < rows; i++)
	{
		if (sf_rng_below(&rng, n - i) < rows - taken)
		{
			uint32_t	j;

			for (j = 0; j < d; j++)
			{
				double		v = xd ? xd[i * d + j] : (double) xf[i * d + j];

				if (isinf(v))
				{
					sf_background_free(env, out);
					return sf_fail(env, SF_EDATA, "training row %zu has an infinite feature", i + 1);
				}
				out->x[taken * d + j] = v;
			}
			taken++;
		}
	}
	return SF_OK;
}

void
sf_background_free(sf_env *env, sf_background *bg)
{
	sf_free(env, bg->x);
	bg->x = NULL;
	bg->n_rows = 0;
}

void
sf_background_encode(const sf_background *bg, sf_buf *b)
{
	sf_buf_put_u32(b, bg->n_rows);
	sf_buf_put_u32(b, bg->n_cols);
	sf_buf_put_u32(b, bg->n_permutations);
	sf_buf_put_u64(b, bg->seed);
	sf_buf_put_f64s(b, bg->x, (size_t) bg->n_rows * bg->n_cols);
}

/* Parse the header of a section body; the values follow at *r. */
static sf_status
read_head(sf_env *env, sf_reader *r, uint32_t n_features, sf_background *bg)
{
	bg->n_rows = sf_read_u32(r);
	bg->n_cols = sf_read_u32(r);
	bg->n_permutations = sf_read_u32(r);
	bg->seed = sf_read_u64(r);
	if (!sf_reader_ok(r))
		return sf_fail(env, SF_ECORRUPT, "background section is truncated");
	if (bg->n_rows < 1 || bg->n_rows > SF_BACKGROUND_MAX_ROWS)
		return sf_fail(env, SF_ECORRUPT, "background section holds %u rows, not 1..%d",
					   (unsigned) bg->n_rows, SF_BACKGROUND_MAX_ROWS);
	if (bg->n_cols != n_features)
		return sf_fail(env, SF_ECORRUPT, "background section has %u columns for %u features",
					   (unsigned) bg->n_cols, (unsigned) n_features);
	if (bg->n_permutations < 2 || bg->n_permutations % 2 != 0 || bg->n_permutations > (1u << 24))
		return sf_fail(env, SF_ECORRUPT, "background section asks for %u permutations",
					   (unsigned) bg->n_permutations);
	if (!sf_reader_has(r, (uint64_t) bg->n_rows * bg->n_cols, 8) ||
		sf_reader_left(r) != (size_t) bg->n_rows * bg->n_cols * 8)
		return sf_fail(env, SF_ECORRUPT, "background section length does not match %u x %u values",
					   (unsigned) bg->n_rows, (unsigned) bg->n_cols);
	return SF_OK;
}

sf_status
sf_background_check(sf_env *env, const uint8_t *data, uint64_t len, uint32_t n_features)
{
	sf_reader	r;
	sf_background bg;
	sf_status	st;
	size_t		i,
				n;

	sf_reader_init(&r, data, (size_t) len);
	if ((st = read_head(env, &r, n_features, &bg)) != SF_OK)
		return st;
	n = (size_t) bg.n_rows * bg.n_cols;
	for (i = 0; i < n; i++)
		if (isinf(sf_read_f64(&r)))
			return sf_fail(env, SF_ECORRUPT, "background value %zu is infinite", i + 1);
	return SF_OK;
}

sf_status
sf_background_decode(sf_env *env, const sf_container *c, sf_background *bg)
{
	const sf_section *s = sf_container_find(c, SF_TAG_BACKGROUND);
	sf_reader	r;
	sf_status	st;
	size_t		n;

	memset(bg, 0, sizeof(*bg));
	if (s == NULL)
		return SF_OK;
	if ((st = sf_background_check(env, s->data, s->len, c->n_features)) != SF_OK)
		return st;
	sf_reader_init(&r, s->data, (size_t) s->len);
	(void) read_head(env, &r, c->n_features, bg);
	n = (size_t) bg->n_rows * bg->n_cols;
	bg->x = sf_malloc(env, sizeof(double) * n);
	if (bg->x == NULL)
	{
		bg->n_rows = 0;
		return sf_fail(env, SF_ENOMEM, "out of memory decoding the background sample");
	}
	sf_read_f64s(&r, bg->x, n);
	return SF_OK;
}

sf_status
sf_container_add_section(sf_env *env, const uint8_t *buf, size_t len, uint16_t tag,
						 const uint8_t *data, size_t dlen, sf_buf *out)
{
	sf_container c;
	sf_status	st;

	if (tag >= SF_TAG_BODY)
		return sf_fail(env, SF_EINVAL, "section %u is not a common section", (unsigned) tag);
	if ((st = sf_container_decode(env, buf, len, &c)) != SF_OK)
		return st;
	if (sf_container_find(&c, tag) != NULL)
		return sf_fail(env, SF_EINVAL, "the model already has section %u", (unsigned) tag);
	/* a new tag: setting it inserts it in tag order, as adding means */
	return sf_container_set_section(env, buf, len, tag, data, dlen, out);
}

sf_status
sf_background_mean(sf_env *env, const double *x, size_t n, uint32_t d, sf_background *out)
{
	size_t		i;
	uint32_t	j;

	memset(out, 0, sizeof(*out));
	if (n == 0 || d == 0)
		return sf_fail(env, SF_EDATA, "no rows to average into a background row");
	out->x = sf_calloc(env, d, sizeof(double));
	if (out->x == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the background row");
	out->n_rows = 1;
	out->n_cols = d;
	out->n_permutations = 2;
	/* column by column in row order: the same sum for the same rows */
	for (j = 0; j < d; j++)
	{
		double		s = 0;

		for (i = 0; i < n; i++)
			s += x[i * d + j];
		out->x[j] = s / (double) n;
		if (!isfinite(out->x[j]))
		{
			sf_background_free(env, out);
			return sf_fail(env, SF_EDATA, "the mean of feature %u is not finite", (unsigned) j + 1);
		}
	}
	return SF_OK;
}
