/*
 * gbt_hist.c
 *	  The numeric kernels of tree training: the worker pool, quantisation of
 *	  the training rows into bin codes, gradient histograms and the split
 *	  search.
 *
 * Quantisation follows XGBoost's hist method: per feature, weighted
 * quantiles of the training values give at most max_bin bins whose upper
 * bounds are the split conditions (a feature with few distinct values gets
 * one bin per value, its cuts being the next distinct value); the last cut
 * lies above the maximum (max + |max| + 1e-5, as XGBoost) and each feature
 * keeps a value below its minimum for the "every value right, missing left"
 * split.  Values are compared as float32, as the model compares them.
 *
 * The split search enumerates, per feature, the bins left to right with the
 * missing rows on the right, then right to left with them on the left
 * (XGBoost's EnumerateSplit<+1> and <-1>), keeping a candidate only when
 * both children reach min_child_weight.  Gains and weights are XGBoost 1.7's
 * (src/tree/param.h: CalcGain, CalcWeight with alpha and max_delta_step).
 *
 * Threads: every region splits its work by feature (or by row block for the
 * coding pass), so each sum is accumulated in row order by one thread and the
 * model bytes do not depend on the thread count.  Worker threads block all
 * signals, touch only memory allocated before the region, and are joined
 * before gbt_parallel returns (the pool of src/core/pool.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_pool.h"
#include "gbt_int.h"

/* ------------------------------------------------------------ pool */

/* The tree regions are short tasks on the one pool of the cores (sf_pool.h). */
typedef struct gbt_region
{
	gbt_task_fn fn;
	void	   *ctx;
} gbt_region;

static sf_status
gbt_task(void *ctx, int task, int worker, sf_env *env)
{
	gbt_region *g = ctx;

	g->fn(g->ctx, task, worker);
	return SF_OK;
}

int
gbt_workers(const sf_env *env, int n_tasks)
{
	return sf_pool_workers(env, n_tasks);
}

void
gbt_parallel(sf_env *env, int n_tasks, gbt_task_fn fn, void *ctx)
{
	gbt_region	g = {fn, ctx};

	/* the tasks cannot fail, so neither can the region */
	(void) sf_pool_run(env, SF_POOL_SHORT, n_tasks, gbt_task, &g, NULL);
}

/* ------------------------------------------------------------ quantisation */

/* Scratch of one worker for sorting a feature's values (and weights). */
typedef struct sort_buf
{
	uint32_t   *k0,
			   *k1;				/* (n) sortable keys */
	double	   *w0,
			   *w1;				/* (n) weights, or NULL when unweighted */
} sort_buf;

/* Order-preserving map of float32 bits to unsigned keys, and back. */
static inline uint32_t
float_key(float v)
{
	uint32_t	u;

	memcpy(&u, &v, 4);
	return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static inline float
key_float(uint32_t u)
{
	float		v;

	u = (u & 0x80000000u) ? (u & 0x7FFFFFFFu) : ~u;
	memcpy(&v, &u, 4);
	return v;
}

/*
 * LSD radix sort of m keys (3 passes of 11 bits), carrying the weights:
 * linear time, where a comparison sort of a million values per feature
 * dominated the quantisation.  The result ends in sb->k0 / sb->w0.
 */
static void
radix_sort(sort_buf *sb, size_t m)
{
	uint32_t   *src = sb->k0,
			   *dst = sb->k1;
	double	   *ws = sb->w0,
			   *wd = sb->w1;
	int			pass;

	for (pass = 0; pass < 3; pass++)
	{
		size_t		cnt[2048],
					i,
					sum = 0;
		int			shift = pass * 11;

		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < m; i++)
			cnt[(src[i] >> shift) & 2047]++;
		for (i = 0; i < 2048; i++)
		{
			size_t		c = cnt[i];

			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < m; i++)
		{
			size_t		pos = cnt[(src[i] >> shift) & 2047]++;

			dst[pos] = src[i];
			if (ws)
				wd[pos] = ws[i];
		}
		{
			uint32_t   *t = src;

			src = dst;
			dst = t;
		}
		{
			double	   *t = ws;

			ws = wd;
			wd = t;
		}
	}
	/* three passes: the sorted data is in the second buffer; swap names */
	sb->k1 = sb->k0;
	sb->k0 = src;
	sb->w1 = sb->w0;
	sb->w0 = ws;
}

typedef struct bins_ctx
{
	const double *x;
	const double *w;
	uint32_t	p;
	const uint32_t *rows;
	size_t		n;
	int			max_bin;
	sort_buf   *scratch;		/* (workers) sort buffers of n entries */
	float	   *cuts;			/* (p, max_bin + 1) candidate cuts */
	gbt_bins   *b;
	uint32_t	base;			/* first feature of the current region */
} bins_ctx;

static float
upper_of(float v)
{
	float		u = v + (fabsf(v) + 1e-5f);

	return u > v ? u : INFINITY;
}

/* Cuts of feature j into c->cuts + j * (max_bin + 1); sets n_bins, min, has_missing. */
static void
bins_feature(void *arg, int j, int worker)
{
	bins_ctx   *c = arg;
	sort_buf   *sb = &c->scratch[worker];
	float	   *cut = c->cuts + (size_t) j * (c->max_bin + 1);
	size_t		m = 0,
				i,
				k;
	double		total = 0.0;
	uint32_t	nb = 0;
	const uint32_t *key;
	const double *wt;

	for (i = 0; i < c->n; i++)
	{
		size_t		r = c->rows ? c->rows[i] : i;
		float		v = (float) c->x[r * c->p + j];

		if (isnan(v))
			continue;
		sb->k0[m] = float_key(v);
		if (c->w)
		{
			sb->w0[m] = c->w[r];
			total += c->w[r];
		}
		m++;
	}
	if (!c->w)
		total = (double) m;
	c->b->has_missing[j] = m < c->n;
	if (m == 0)
	{
		cut[0] = INFINITY;
		c->b->n_bins[j] = 1;
		c->b->min_val[j] = 0.0f;
		return;
	}
	radix_sort(sb, m);
	key = sb->k0;
	wt = sb->w0;
#define VAL(i) key_float(key[i])
#define WGT(i) (c->w ? wt[i] : 1.0)
	c->b->min_val[j] = VAL(0) - (fabsf(VAL(0)) + 1e-5f);

	/* distinct values */
	{
		size_t		distinct = 1;

		for (i = 1; i < m; i++)
			distinct += VAL(i) != VAL(i - 1);
		if (distinct <= (size_t) c->max_bin)
		{
			for (i = 1; i < m; i++)
				if (VAL(i) != VAL(i - 1))
					cut[nb++] = VAL(i);
		}
		else
		{
			/*
			 * Weighted quantiles: the cut before the first distinct value
			 * whose preceding weight reaches i / max_bin of the total.
			 */
			double		acc = 0.0;
			int			q = 1;

			for (i = 0; i < m; i = k)
			{
				double		wv = 0.0;
				float		v = VAL(i);

				for (k = i; k < m && VAL(k) == v; k++)
					wv += WGT(k);
				if (i > 0 && q < c->max_bin && acc >= total * (double) q / c->max_bin)
				{
					cut[nb++] = v;
					while (q < c->max_bin && acc >= total * (double) q / c->max_bin)
						q++;
				}
				acc += wv;
			}
		}
	}
	cut[nb++] = upper_of(VAL(m - 1));
	c->b->n_bins[j] = nb;
#undef VAL
#undef WGT
}

static void
bins_task(void *arg, int t, int worker)
{
	bins_ctx   *c = arg;

	bins_feature(c, (int) (c->base + (uint32_t) t), worker);
}

typedef struct code_ctx
{
	const double *x;
	const uint32_t *rows;
	size_t		n;				/* rows in this region */
	size_t		row0;			/* index of the region's first row in b */
	gbt_bins   *b;
} code_ctx;

#define GBT_CODE_BLOCK 8192

/*
 * Code of value v of a feature with nb bins and cuts cut[]: its missing
 * code nb if v is NaN, else the first cut above v (bins are [cut[b-1],
 * cut[b])) by a branch-free binary search, since the comparisons on random
 * values would mispredict half the time.
 */
static inline uint32_t
code_of(const float *restrict cut, uint32_t nb, float v)
{
	const float *base = cut;
	uint32_t	len = nb;

	if (isnan(v))
		return nb;
	while (len > 1)
	{
		uint32_t	half = len / 2;

		base += (size_t) (base[half - 1] <= v) * half;
		len -= half;
	}
	return (uint32_t) (base - cut) + (base[0] <= v);
}

/*
 * The codes of one block of rows, row-major (as histogram indices when
 * b->slots) and column-major.  The fields of b are read into restrict locals
 * once: the stores to the code arrays would otherwise reload them per value
 * (the server build's -fno-strict-aliasing).
 */
static void
code_block(void *arg, int t, int worker)
{
	code_ctx   *c = arg;
	const gbt_bins *b = c->b;
	const float *restrict cuts = b->cuts;
	const uint32_t *restrict n_bins = b->n_bins;
	const uint32_t *restrict off = b->off;
	const double *restrict x = c->x;
	uint32_t	p = b->p;
	size_t		n = b->n;
	int			wide = b->wide,
				slots = b->slots;
	uint16_t   *restrict rm16 = b->codes;
	uint16_t   *restrict cm16 = b->codes_t;
	uint8_t    *restrict rm8 = b->codes;
	uint8_t    *restrict cm8 = b->codes_t;
	size_t		i0 = (size_t) t * GBT_CODE_BLOCK,
				i1 = i0 + GBT_CODE_BLOCK,
				i;
	uint32_t	j;

	if (i1 > c->n)
		i1 = c->n;
	for (i = i0; i < i1; i++)
	{
		size_t		r = c->rows ? c->rows[i] : c->row0 + i;
		size_t		dst = c->row0 + i;

		for (j = 0; j < p; j++)
		{
			uint32_t	code = code_of(cuts + off[j], n_bins[j], (float) x[r * p + j]);

			if (wide)
			{
				rm16[dst * p + j] = (uint16_t) (slots ? 2 * (off[j] + code) : code);
				cm16[(size_t) j * n + dst] = (uint16_t) code;
			}
			else
			{
				rm8[dst * p + j] = (uint8_t) code;
				cm8[(size_t) j * n + dst] = (uint8_t) code;
			}
		}
	}
}

sf_status
gbt_bins_build(sf_env *env, const double *x, const double *w, uint32_t p, const uint32_t *rows,
			   size_t n_rows, int max_bin, gbt_bins *b)
{
	bins_ctx	c;
	code_ctx	cc;
	int			nw = gbt_workers(env, (int) (p > 1000000 ? 1000000 : p));
	int			i;
	uint32_t	j,
				maxcode = 0;
	size_t		ncodes;
	sf_status	st = SF_OK;

	memset(b, 0, sizeof(*b));
	b->n = n_rows;
	b->p = p;
	memset(&c, 0, sizeof(c));
	if (!sf_alloc_all(env, SF_CALLOC_N(b->n_bins, p), SF_CALLOC_N(b->off, (size_t) p + 1),
					  SF_CALLOC_N(b->min_val, p), SF_CALLOC_N(b->has_missing, p), SF_CALLOC_N(c.scratch, nw),
					  SF_CALLOC_N(c.cuts, (size_t) p * (max_bin + 1))))
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory quantising the training rows");
		goto done;
	}
	for (i = 0; i < nw; i++)
		if ((c.scratch[i].k0 = sf_malloc(env, sizeof(uint32_t) * (n_rows ? n_rows : 1))) == NULL ||
			(c.scratch[i].k1 = sf_malloc(env, sizeof(uint32_t) * (n_rows ? n_rows : 1))) == NULL ||
			(w && (c.scratch[i].w0 = sf_malloc(env, sizeof(double) * (n_rows ? n_rows : 1))) == NULL) ||
			(w && (c.scratch[i].w1 = sf_malloc(env, sizeof(double) * (n_rows ? n_rows : 1))) == NULL))
		{
			st = sf_fail(env, SF_ENOMEM, "out of memory quantising the training rows");
			goto done;
		}
	c.x = x;
	c.w = w;
	c.p = p;
	c.rows = rows;
	c.n = n_rows;
	c.max_bin = max_bin;
	c.b = b;
	/* one region per block of features, so a cancel is seen between blocks */
	for (j = 0; j < p; j += (uint32_t) nw)
	{
		if (sf_interrupted(env))
		{
			st = sf_fail(env, SF_ECANCEL, "canceled");
			goto done;
		}
		c.base = j;
		gbt_parallel(env, (int) ((p - j) < (uint32_t) nw ? (p - j) : (uint32_t) nw), bins_task, &c);
	}
done:
	for (i = 0; c.scratch && i < nw; i++)
	{
		sf_free_all(env, c.scratch[i].k0, c.scratch[i].k1, c.scratch[i].w0, c.scratch[i].w1);
	}
	sf_free(env, c.scratch);
	if (st == SF_OK)
	{
		for (j = 0; j < p; j++)
		{
			b->off[j + 1] = b->off[j] + b->n_bins[j] + 1;
			if (b->n_bins[j] > maxcode)
				maxcode = b->n_bins[j];
		}
		b->cuts = sf_calloc(env, b->off[p] ? b->off[p] : 1, sizeof(float));
		if (b->cuts == NULL)
			st = sf_fail(env, SF_ENOMEM, "out of memory quantising the training rows");
		else
			for (j = 0; j < p; j++)
				memcpy(b->cuts + b->off[j], c.cuts + (size_t) j * (max_bin + 1),
					   sizeof(float) * b->n_bins[j]);
	}
	sf_free(env, c.cuts);
	if (st != SF_OK)
		return st;

	b->wide = maxcode > 255;
	/* 16-bit codes either way: store histogram indices when they fit (gbt_int.h) */
	b->slots = b->wide && b->off[p] <= 32768;
	if (!sf_mul_size(n_rows, p, &ncodes) ||
		(b->codes = sf_calloc(env, ncodes ? ncodes : 1, b->wide ? 2 : 1)) == NULL ||
		(b->codes_t = sf_calloc(env, ncodes ? ncodes : 1, b->wide ? 2 : 1)) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory storing the bin codes");
	{
		size_t		blocks = (n_rows + GBT_CODE_BLOCK - 1) / GBT_CODE_BLOCK,
					t;
		size_t		step = 64;	/* blocks per region: a cancel is seen within ~0.1 s */

		for (t = 0; t < blocks; t += step)
		{
			size_t		cnt = blocks - t < step ? blocks - t : step;

			if (sf_interrupted(env))
				return sf_fail(env, SF_ECANCEL, "canceled");
			cc.x = x;
			cc.rows = rows ? rows + t * GBT_CODE_BLOCK : NULL;
			cc.row0 = t * GBT_CODE_BLOCK;
			cc.n = n_rows - t * GBT_CODE_BLOCK;
			cc.b = b;
			gbt_parallel(env, (int) cnt, code_block, &cc);
		}
	}
	return SF_OK;
}

void
gbt_bins_free(sf_env *env, gbt_bins *b)
{
	sf_free_all(env, b->n_bins, b->off, b->cuts, b->min_val, b->has_missing, b->codes, b->codes_t);
	memset(b, 0, sizeof(*b));
}

typedef struct count_ctx
{
	const gbt_bins *b;
	uint64_t   *count;
} count_ctx;

/* Rows per code of feature j: one pass over its column of codes. */
static void
count_task(void *arg, int j, int worker)
{
	count_ctx  *c = arg;
	const gbt_bins *b = c->b;
	uint64_t   *cnt = c->count + b->off[j];
	size_t		i;

	memset(cnt, 0, sizeof(uint64_t) * (b->n_bins[j] + 1));
	if (b->wide)
	{
		const uint16_t *col = (const uint16_t *) b->codes_t + (size_t) j * b->n;

		for (i = 0; i < b->n; i++)
			cnt[col[i]]++;
	}
	else
	{
		const uint8_t *col = (const uint8_t *) b->codes_t + (size_t) j * b->n;

		for (i = 0; i < b->n; i++)
			cnt[col[i]]++;
	}
}

void
gbt_bins_count(sf_env *env, const gbt_bins *b, uint64_t *count)
{
	count_ctx	c = {b, count};

	gbt_parallel(env, (int) b->p, count_task, &c);
}
