/*
 * gbt_dist.c
 *	  Sharded training of gradient-boosted trees (gbt_dist.h): the shard's
 *	  sketch and the coordinator's merge of the sketches into bin edges.  The
 *	  shard's state of a training and its jobs are in gbt_dist_shard.c, the
 *	  coordinator's growing of the trees in gbt_dist_grow.c.
 *
 * Sameness with gbt_train over the union of the rows:
 * - bin edges: gbt_hist.c's cuts come from a sort of every value of a
 *   feature (distinct values, or weighted quantiles over them).  A shard
 *   sends its sorted distinct values with their counts and weight sums;
 *   merged in shard order they are that sort, so the edges are the same
 *   (bit for bit without weights: the counts are exact; with weights a
 *   quantile's cumulative weight is summed in another order).
 * - trees: the coordinator grows them with gbt_grow.c's own steps
 *   (gbt_dist_grow.c), so they differ only where a sum of gradients is
 *   taken in another order: each shard sums its rows (and takes one child
 *   as its parent's minus the other), the coordinator sums the shards in a
 *   fixed order.  The same sums in the single server's row order (or an
 *   exact accumulator on both sides) would make the bytes equal.
 * - margins: a shard starts every row at the base margin and adds the
 *   finished trees' leaf values in tree order, in double, as gbt_train
 *   does; a row reaches its leaf by its bin codes, as gbt_route_binned.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/gbt_dist.h"
#include "scfrisk/sf_rng.h"
#include "gbt_int.h"
#include "gbt_dist_int.h"


/* ------------------------------------------------------------ helpers */

/* Order-preserving map of float32 bits to unsigned keys (as gbt_hist.c). */
static inline uint32_t
float_key(float v)
{
	uint32_t	u;

	memcpy(&u, &v, 4);
	return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* The last cut of a feature: above its maximum (gbt_hist.c's upper_of). */
static float
upper_of(float v)
{
	float		u = v + (fabsf(v) + 1e-5f);

	return u > v ? u : INFINITY;
}

/*
 * Sort keys[0, m) by their upper 32 bits (the value's key), stably, so rows
 * of one value stay in row order: four byte-wide counting passes through
 * tmp (m words), what a sort by (value, row) gives in linear time.
 */
static void
radix_sort_keys(uint64_t *keys, uint64_t *tmp, size_t m)
{
	int			pass;

	for (pass = 0; pass < 4; pass++)
	{
		size_t		count[257] = {0},
					i;
		int			shift = 32 + 8 * pass,
					c;

		for (i = 0; i < m; i++)
			count[((keys[i] >> shift) & 0xFF) + 1]++;
		for (c = 0; c < 256; c++)
			count[c + 1] += count[c];
		for (i = 0; i < m; i++)
			tmp[count[(keys[i] >> shift) & 0xFF]++] = keys[i];
		memcpy(keys, tmp, sizeof(uint64_t) * m);
	}
}

/* ------------------------------------------------------------ sketch (shard) */

/*
 * One feature: sorted distinct values (by key, rows in order within a
 * value), each with its row count (u32: a shard holds fewer than 2^32 rows)
 * and, unless every weight is 1 (unit; the weight is then the count), its
 * weight sum.
 */
static sf_status
sketch_feature(sf_env *env, const double *x, const double *w, size_t n, uint32_t p, uint32_t j,
			   int unit, uint64_t *keys, uint64_t *tmp, sf_buf *out)
{
	size_t		m = 0,
				i,
				k,
				nd = 0;
	double		total = 0.0;

	for (i = 0; i < n; i++)
	{
		float		v = (float) x[i * p + j];

		if (isnan(v))
			continue;
		if (isinf(v))
			return sf_fail(env, SF_EDATA, "feature %u of a row is infinite", (unsigned) j + 1);
		keys[m++] = ((uint64_t) float_key(v) << 32) | (uint64_t) i;
		total += w ? w[i] : 1.0;
	}
	radix_sort_keys(keys, tmp, m);
	for (i = 0; i < m; i = k)
		for (nd++, k = i; k < m && (keys[k] >> 32) == (keys[i] >> 32); k++)
			;
	sf_buf_put_u8(out, (uint8_t) (m < n));
	sf_buf_put_u64(out, m);
	sf_buf_put_f64(out, total);
	sf_buf_put_u32(out, (uint32_t) nd);
	for (i = 0; i < m; i = k)
	{
		uint32_t	key = (uint32_t) (keys[i] >> 32);
		double		wv = 0.0;
		float		v;

		for (k = i; k < m && (uint32_t) (keys[k] >> 32) == key; k++)
			wv += w ? w[keys[k] & 0xFFFFFFFFu] : 1.0;
		key = (key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key;
		memcpy(&v, &key, 4);
		sf_buf_put_f32(out, v);
		sf_buf_put_u32(out, (uint32_t) (k - i));
		if (!unit)
			sf_buf_put_f64(out, wv);
	}
	return SF_OK;
}

sf_status
gbt_dist_sketch(sf_env *env, const double *x, const double *y, const double *w, size_t n,
				uint32_t p, sf_buf *out)
{
	uint64_t   *keys,
			   *tmp;
	uint64_t	n0 = 0,
				n1 = 0;
	double		sw = 0.0;
	int			unit = 1;
	size_t		i;
	uint32_t	j;
	sf_status	st = SF_OK;

	if (n >= UINT32_MAX)
		return sf_fail(env, SF_ELIMIT, "too many rows on one shard (%zu)", n);
	for (i = 0; i < n; i++)
	{
		n0 += y[i] == 0.0;
		n1 += y[i] == 1.0;
		if (w)
		{
			sw += w[i];
			unit &= w[i] == 1.0;
		}
	}
	sf_buf_put_u32(out, SKETCH_MAGIC);
	sf_buf_put_u32(out, p);
	sf_buf_put_u64(out, n);
	sf_buf_put_u64(out, n0);
	sf_buf_put_u64(out, n1);
	sf_buf_put_u8(out, (uint8_t) unit);
	sf_buf_put_f64(out, w ? sw : (double) n);
	keys = sf_malloc(env, sizeof(uint64_t) * (n ? n : 1));
	tmp = sf_malloc(env, sizeof(uint64_t) * (n ? n : 1));
	if (keys == NULL || tmp == NULL)
	{
		sf_free(env, keys);
		sf_free(env, tmp);
		return sf_fail(env, SF_ENOMEM, "out of memory sketching the rows");
	}
	for (j = 0; j < p && st == SF_OK; j++)
	{
		if (sf_interrupted(env))
			st = sf_fail(env, SF_ECANCEL, "canceled");
		else
			st = sketch_feature(env, x, w, n, p, j, unit, keys, tmp, out);
	}
	sf_free(env, keys);
	sf_free(env, tmp);
	if (st == SF_OK && sf_buf_status(out) != SF_OK)
		return sf_fail(env, SF_ENOMEM, "out of memory writing the sketch");
	return st;
}

/* ------------------------------------------------------------ sketch merge (coordinator) */

/* A shard's sketch, read: the header and where each feature's list starts. */
typedef struct sketch_view
{
	uint32_t	p;
	uint64_t	n,
				n0,
				n1;
	int			unit;
	double		sw;
	sf_reader	r;				/* positioned at the next feature */
} sketch_view;

/* One entry of a feature's merge: key, then shard, so equal values keep the shard order. */
typedef struct merge_entry
{
	uint32_t	key;
	uint32_t	shard;
	float		v;
	uint64_t	count;
	double		weight;
} merge_entry;

/* Grow *e to hold n entries. */
static sf_status
reserve_entries(sf_env *env, merge_entry **e, size_t *cap, size_t used, size_t n)
{
	merge_entry *ng;

	if (n <= *cap)
		return SF_OK;
	if ((ng = sf_malloc(env, sizeof(merge_entry) * n * 2)) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory merging the sketches");
	if (used)
		memcpy(ng, *e, sizeof(merge_entry) * used);
	sf_free(env, *e);
	*e = ng;
	*cap = n * 2;
	return SF_OK;
}

/*
 * Merge the ns ascending runs of e (run s at run_at[s], up to run_at[s + 1])
 * into out by key, equal keys in shard order: what a sort of the union's
 * values gives, in linear time (a shard sends its values sorted).
 */
static void
merge_runs(const merge_entry *e, const size_t *run_at, int ns, size_t *head, merge_entry *out)
{
	size_t		k = 0;
	int			s;

	for (s = 0; s < ns; s++)
		head[s] = run_at[s];
	for (;;)
	{
		int			best = -1;

		for (s = 0; s < ns; s++)
			if (head[s] < run_at[s + 1] &&
				(best < 0 || e[head[s]].key < e[head[best]].key))
				best = s;
		if (best < 0)
			break;
		out[k++] = e[head[best]++];
	}
}

/* Read the entries of feature j from every shard (in order) into *out merged; *ne gets their count. */
static sf_status
merge_read_feature(sf_env *env, sketch_view *sv, int ns, merge_entry **e, size_t *cap,
				   merge_entry **out, size_t *out_cap, size_t *run_at, size_t *ne,
				   uint64_t *m, double *total, int *missing)
{
	int			s;
	sf_status	st;

	*ne = 0;
	*m = 0;
	*total = 0.0;
	*missing = 0;
	for (s = 0; s < ns; s++)
	{
		sf_reader  *r = &sv[s].r;
		uint32_t	nd,
					i;

		run_at[s] = *ne;
		*missing |= sf_read_u8(r) != 0;
		*m += sf_read_u64(r);
		*total += sf_read_f64(r);
		nd = sf_read_u32(r);
		if (!sf_reader_ok(r) || !sf_reader_has(r, nd, sv[s].unit ? 8 : 16))
			return sf_fail(env, SF_ECORRUPT, "sketch of shard %d is truncated", s + 1);
		if ((st = reserve_entries(env, e, cap, *ne, *ne + nd)) != SF_OK)
			return st;
		for (i = 0; i < nd; i++)
		{
			merge_entry *x = &(*e)[(*ne)++];

			x->v = sf_read_f32(r);
			x->count = sf_read_u32(r);
			x->weight = sv[s].unit ? (double) x->count : sf_read_f64(r);
			x->key = float_key(x->v);
			x->shard = (uint32_t) s;
			if (isnan(x->v) || isinf(x->v))
				return sf_fail(env, SF_ECORRUPT, "sketch of shard %d holds a non-finite value", s + 1);
			if (i > 0 && x->key <= x[-1].key)
				return sf_fail(env, SF_ECORRUPT, "sketch of shard %d holds values out of order", s + 1);
		}
	}
	run_at[ns] = *ne;
	if ((st = reserve_entries(env, out, out_cap, 0, *ne ? *ne : 1)) != SF_OK)
		return st;
	merge_runs(*e, run_at, ns, run_at + ns + 1, *out);
	return SF_OK;
}

/*
 * The cuts of one feature from its merged values (ascending, float-equal
 * values adjacent), exactly as gbt_hist.c's bins_feature computes them from
 * its sorted rows: WGT is a value's row count without weights, its weight
 * sum with them.
 */
static void
merge_cuts(const merge_entry *e, size_t ne, double total, int weighted, int max_bin,
		   float *cut, uint32_t *n_bins, float *min_val)
{
	size_t		i,
				k,
				distinct = 1;
	uint32_t	nb = 0;

#define VAL(i) (e[i].v)
#define WGT(i) (weighted ? e[i].weight : (double) e[i].count)
	if (ne == 0)
	{
		cut[0] = INFINITY;
		*n_bins = 1;
		*min_val = 0.0f;
		return;
	}
	*min_val = VAL(0) - (fabsf(VAL(0)) + 1e-5f);
	for (i = 1; i < ne; i++)
		distinct += VAL(i) != VAL(i - 1);
	if (distinct <= (size_t) max_bin)
	{
		for (i = 1; i < ne; i++)
			if (VAL(i) != VAL(i - 1))
				cut[nb++] = VAL(i);
	}
	else
	{
		double		acc = 0.0;
		int			q = 1;

		for (i = 0; i < ne; i = k)
		{
			double		wv = 0.0;
			float		v = VAL(i);

			for (k = i; k < ne && VAL(k) == v; k++)
				wv += WGT(k);
			if (i > 0 && q < max_bin && acc >= total * (double) q / max_bin)
			{
				cut[nb++] = v;
				while (q < max_bin && acc >= total * (double) q / max_bin)
					q++;
			}
			acc += wv;
		}
	}
	cut[nb++] = upper_of(VAL(ne - 1));
	*n_bins = nb;
#undef VAL
#undef WGT
}

static sf_status
read_sketch_headers(sf_env *env, const uint8_t *const *sk, const size_t *len, int ns,
					sketch_view *sv, dist_totals *tot)
{
	int			s;

	memset(tot, 0, sizeof(*tot));
	for (s = 0; s < ns; s++)
	{
		sf_reader  *r = &sv[s].r;

		sf_reader_init(r, sk[s], len[s]);
		if (sf_read_u32(r) != SKETCH_MAGIC)
			return sf_fail(env, SF_ECORRUPT, "reply of shard %d is not a sketch", s + 1);
		sv[s].p = sf_read_u32(r);
		sv[s].n = sf_read_u64(r);
		sv[s].n0 = sf_read_u64(r);
		sv[s].n1 = sf_read_u64(r);
		sv[s].unit = sf_read_u8(r);
		sv[s].sw = sf_read_f64(r);
		if (!sf_reader_ok(r))
			return sf_fail(env, SF_ECORRUPT, "sketch of shard %d is truncated", s + 1);
		if (s > 0 && sv[s].p != tot->p)
			return sf_fail(env, SF_EDATA, "features has %u elements on shard %d, %u on shard 1",
						   (unsigned) sv[s].p, s + 1, (unsigned) tot->p);
		tot->p = sv[s].p;
		tot->n += sv[s].n;
		tot->n0 += sv[s].n0;
		tot->n1 += sv[s].n1;
		tot->weighted |= !sv[s].unit;
		tot->sw += sv[s].sw;
	}
	return SF_OK;
}

sf_status
gbt_dist_merge_sketches(sf_env *env, const uint8_t *const *sk, const size_t *len, int ns, int max_bin,
			   dist_totals *tot, gbt_bins *b)
{
	sketch_view *sv = sf_calloc(env, ns ? ns : 1, sizeof(sketch_view));
	size_t	   *run_at = sf_calloc(env, 2 * (size_t) ns + 2, sizeof(size_t));
	merge_entry *e = NULL,
			   *merged = NULL;
	float	   *cuts = NULL;
	size_t		cap = 0,
				merged_cap = 0,
				ne;
	uint32_t	j,
				p;
	sf_status	st;

	memset(b, 0, sizeof(*b));
	if (sv == NULL || run_at == NULL)
	{
		sf_free(env, sv);
		sf_free(env, run_at);
		return sf_fail(env, SF_ENOMEM, "out of memory merging the sketches");
	}
	if ((st = read_sketch_headers(env, sk, len, ns, sv, tot)) != SF_OK)
		goto done;
	if (tot->n == 0)
	{
		st = sf_fail(env, SF_EDATA, "no training rows");
		goto done;
	}
	p = tot->p;
	if (p == 0 || p > GBT_MAX_FEATURES)
	{
		st = sf_fail(env, SF_EDATA, "features must have 1 to %d elements, got %u",
					 GBT_MAX_FEATURES, (unsigned) p);
		goto done;
	}
	b->p = p;
	if (!sf_alloc_all(env, SF_CALLOC_N(b->n_bins, p), SF_CALLOC_N(b->off, (size_t) p + 1),
					  SF_CALLOC_N(b->min_val, p), SF_CALLOC_N(b->has_missing, p),
					  SF_MALLOC_N(cuts, (size_t) p * (max_bin + 1))))
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory merging the sketches");
		goto done;
	}
	for (j = 0; j < p; j++)
	{
		uint64_t	m;
		double		total;
		int			missing;

		if ((st = merge_read_feature(env, sv, ns, &e, &cap, &merged, &merged_cap, run_at, &ne,
									 &m, &total, &missing)) != SF_OK)
			goto done;
		b->has_missing[j] = (uint8_t) missing;
		merge_cuts(merged, ne, tot->weighted ? total : (double) m, tot->weighted, max_bin,
				   cuts + (size_t) j * (max_bin + 1), &b->n_bins[j], &b->min_val[j]);
		b->off[j + 1] = b->off[j] + b->n_bins[j] + 1;
	}
	if ((b->cuts = sf_malloc(env, sizeof(float) * b->off[p])) == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory merging the sketches");
		goto done;
	}
	for (j = 0; j < p; j++)
		memcpy(b->cuts + b->off[j], cuts + (size_t) j * (max_bin + 1), sizeof(float) * b->n_bins[j]);
done:
	sf_free_all(env, sv, run_at, e, merged, cuts);
	return st;
}
