/*
 * gbt_dist.c
 *	  Sharded training of gradient-boosted trees (gbt_dist.h): the shard's
 *	  sketch, the coordinator's merge of the sketches into bin edges, and the
 *	  shard's state of a training (gbt_dist_shard) that answers its jobs.
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
 *
 * The shard keeps, between the jobs of one training, what gbt_train keeps
 * between its levels: the rows' codes, margins and gradients, the row list
 * partitioned by node (gbt_grow.c's partition_level) and the histograms of
 * the tree's nodes, so a level costs a shard what it costs gbt_train.
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
	b->n_bins = sf_calloc(env, p, sizeof(uint32_t));
	b->off = sf_calloc(env, (size_t) p + 1, sizeof(uint32_t));
	b->min_val = sf_calloc(env, p, sizeof(float));
	b->has_missing = sf_calloc(env, p, 1);
	cuts = sf_malloc(env, sizeof(float) * (size_t) p * (max_bin + 1));
	if (!b->n_bins || !b->off || !b->min_val || !b->has_missing || !cuts)
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
	sf_free(env, sv);
	sf_free(env, run_at);
	sf_free(env, e);
	sf_free(env, merged);
	sf_free(env, cuts);
	return st;
}

/* ------------------------------------------------------------ the shard's state */

struct gbt_dist_shard
{
	const double *x,
			   *y,
			   *w;				/* the host's rows, canonical order */
	size_t		n;
	uint32_t	p;
	uint32_t	seq;			/* jobs answered */
	int			done;			/* the last job (a tree without a root) was answered */
	int			objective;
	float		base_margin;
	double		scale_pos_weight;
	gbt_params	prm;			/* what alloc_work reads: max_depth */
	train_work	tw;				/* bins (the job's edges, the rows' codes), gh, rows, partitions */
	int			have_work;
	int32_t		node_cap;
	double	   *mt;				/* (n) margins */
	size_t	   *nb,
			   *ne;				/* (node_cap) row range of a node in tw.rows */
	uint8_t    *open;			/* (node_cap) a node whose rows are not partitioned further */
	double	  **nh;				/* (node_cap) the histograms of the tree's nodes kept */
	gbt_split  *sp;				/* (level cap) a level job's splits */
	int32_t    *sp_node,
			   *sp_left,
			   *sp_right;
	uint8_t    *sp_want_right;
};

sf_status
gbt_dist_shard_new(sf_env *env, const double *x, const double *y, const double *w, size_t n,
				   uint32_t p, gbt_dist_shard **out)
{
	gbt_dist_shard *sh;

	*out = NULL;
	if (n >= UINT32_MAX)
		return sf_fail(env, SF_ELIMIT, "too many rows on one shard (%zu)", n);
	if ((sh = sf_calloc(env, 1, sizeof(gbt_dist_shard))) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the shard's state");
	sh->x = x;
	sh->y = y;
	sh->w = w;
	sh->n = n;
	sh->p = p;
	*out = sh;
	return SF_OK;
}

void
gbt_dist_shard_free(sf_env *env, gbt_dist_shard *sh)
{
	int32_t		k;

	if (sh == NULL)
		return;
	if (sh->have_work)
	{
		for (k = 0; sh->nh && k < sh->node_cap; k++)
			hist_put(&sh->tw, sh->nh[k]);
		sh->tw.env = env;
		free_work(&sh->tw);
	}
	sf_free(env, sh->mt);
	sf_free(env, sh->nb);
	sf_free(env, sh->ne);
	sf_free(env, sh->open);
	sf_free(env, sh->nh);
	sf_free(env, sh->sp);
	sf_free(env, sh->sp_node);
	sf_free(env, sh->sp_left);
	sf_free(env, sh->sp_right);
	sf_free(env, sh->sp_want_right);
	sf_free(env, sh);
}

/* Bin of value v among the cuts of one feature: the first cut above v. */
static inline uint32_t
bin_of(const float *cut, uint32_t nb, float v)
{
	uint32_t	lo = 0,
				hi = nb;

	while (lo < hi)
	{
		uint32_t	mid = (lo + hi) / 2;

		if (cut[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The bin edges of the first job into tw.bins, and every row's codes under them. */
static sf_status
read_edges(sf_env *env, sf_reader *r, gbt_dist_shard *sh)
{
	gbt_bins   *b = &sh->tw.bins;
	uint32_t	f,
				maxcode = 0,
				p = sh->p;
	size_t		i;

	b->n = sh->n;
	b->p = p;
	b->n_bins = sf_malloc(env, sizeof(uint32_t) * p);
	b->off = sf_malloc(env, sizeof(uint32_t) * ((size_t) p + 1));
	if (!b->n_bins || !b->off || !sf_reader_has(r, p, 4))
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	b->off[0] = 0;
	for (f = 0; f < p; f++)
	{
		b->n_bins[f] = sf_read_u32(r);
		/* the slots must fit the uint32 offsets (and a histogram the memory cap) */
		if (b->n_bins[f] < 1 || b->n_bins[f] > GBT_MAX_BIN ||
			(uint64_t) b->off[f] + b->n_bins[f] + 1 > (uint64_t) INT32_MAX / 4)
			return sf_fail(env, SF_ECORRUPT, "job holds a bad bin count");
		b->off[f + 1] = b->off[f] + b->n_bins[f] + 1;
		if (b->n_bins[f] > maxcode)
			maxcode = b->n_bins[f];
	}
	if (!sf_reader_has(r, b->off[p] - p, 4) ||
		(b->cuts = sf_calloc(env, b->off[p], sizeof(float))) == NULL)
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	for (f = 0; f < p; f++)
		sf_read_f32s(r, b->cuts + b->off[f], b->n_bins[f]);
	b->wide = maxcode > 255;
	if ((b->codes = sf_malloc(env, sh->n * p * (b->wide ? 2 : 1) + 1)) == NULL ||
		(b->codes_t = sf_malloc(env, sh->n * p * (b->wide ? 2 : 1) + 1)) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the rows' bin codes");
	/* gbt_hist.c's layout: code n_bins[f] marks a missing value */
	for (i = 0; i < sh->n; i++)
		for (f = 0; f < p; f++)
		{
			float		v = (float) sh->x[i * p + f];
			uint32_t	c = isnan(v) ? b->n_bins[f] : bin_of(b->cuts + b->off[f], b->n_bins[f], v);

			if (b->wide)
			{
				((uint16_t *) b->codes)[i * p + f] = (uint16_t) c;
				((uint16_t *) b->codes_t)[(size_t) f * sh->n + i] = (uint16_t) c;
			}
			else
			{
				((uint8_t *) b->codes)[i * p + f] = (uint8_t) c;
				((uint8_t *) b->codes_t)[(size_t) f * sh->n + i] = (uint8_t) c;
			}
		}
	return SF_OK;
}

/* The first job: the training's constants, the edges and the work space. */
static sf_status
read_start(sf_env *env, sf_reader *r, gbt_dist_shard *sh)
{
	uint32_t	p = sf_read_u32(r);
	int32_t		k;
	int			level_cap;
	sf_status	st;

	if (sf_reader_ok(r) && p != sh->p)
		return sf_fail(env, SF_EDATA, "features has %u elements on this shard, the model %u",
					   (unsigned) sh->p, (unsigned) p);
	sh->objective = sf_read_u8(r);
	sh->base_margin = sf_read_f32(r);
	sh->scale_pos_weight = sf_read_f64(r);
	sh->prm.max_depth = (int) sf_read_u32(r);
	if (!sf_reader_ok(r) || sh->prm.max_depth < 1 || sh->prm.max_depth > GBT_MAX_DEPTH)
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	memset(&sh->tw, 0, sizeof(sh->tw));
	sh->tw.env = env;
	sh->tw.prm = &sh->prm;
	sh->tw.p = p;
	sh->tw.n = sh->n;
	sh->have_work = 1;
	if ((st = alloc_work(env, &sh->tw, &sh->prm, p, sh->n ? sh->n : 1, &sh->node_cap)) != SF_OK)
		return st;
	if ((st = read_edges(env, r, sh)) != SF_OK)
		return st;
	sh->tw.n_slots = sh->tw.bins.off[p];
	level_cap = (sh->node_cap - 1) / 2;
	sh->mt = sf_malloc(env, sizeof(double) * (sh->n ? sh->n : 1));
	sh->nb = sf_calloc(env, sh->node_cap, sizeof(size_t));
	sh->ne = sf_calloc(env, sh->node_cap, sizeof(size_t));
	sh->open = sf_calloc(env, sh->node_cap, 1);
	sh->nh = sf_calloc(env, sh->node_cap, sizeof(double *));
	sh->sp = sf_calloc(env, level_cap, sizeof(gbt_split));
	sh->sp_node = sf_calloc(env, level_cap, sizeof(int32_t));
	sh->sp_left = sf_calloc(env, level_cap, sizeof(int32_t));
	sh->sp_right = sf_calloc(env, level_cap, sizeof(int32_t));
	sh->sp_want_right = sf_calloc(env, level_cap, 1);
	if (!sh->mt || !sh->nb || !sh->ne || !sh->open || !sh->nh || !sh->sp || !sh->sp_node ||
		!sh->sp_left || !sh->sp_right || !sh->sp_want_right)
		return sf_fail(env, SF_ENOMEM, "out of memory for the shard's state");
	for (k = 0; k < (int32_t) sh->n; k++)
		sh->mt[k] = sh->base_margin;
	return SF_OK;
}

/* The training metric sums of the margins (gbt_train.c's PASS_METRIC). */
static void
metric_sums(const gbt_dist_shard *sh, int metric, double *acc_out, double *sw_out)
{
	double		acc = 0.0,
				sw = 0.0;
	size_t		i;

	for (i = 0; i < sh->n; i++)
	{
		double		wi = sh->w ? sh->w[i] : 1.0,
					m = sh->mt[i];

		if (metric == GBT_METRIC_LOGLOSS)
		{
			double		pr = 1.0 / (1.0 + exp(-m));

			if (pr < 1e-16)
				pr = 1e-16;
			if (pr > 1.0 - 1e-16)
				pr = 1.0 - 1e-16;
			acc -= wi * (sh->y[i] > 0.5 ? log(pr) : log(1.0 - pr));
		}
		else
		{
			double		pr = sh->objective == GBT_OBJ_BINARY ? 1.0 / (1.0 + exp(-m)) : m;

			acc += wi * (pr - sh->y[i]) * (pr - sh->y[i]);
		}
		sw += wi;
	}
	*acc_out = acc;
	*sw_out = sw;
}

/*
 * A finished tree of a job: per node children, split feature, split bin,
 * flags (1: missing goes left, 2: every value goes right) and value.  Its
 * leaf values are added to the margins of the rows of every open node,
 * each row routed down from its node by its codes as gbt_route_binned does.
 */
static sf_status
apply_tree(sf_env *env, sf_reader *r, gbt_dist_shard *sh)
{
	int32_t		n = sf_read_i32(r),
				k;
	const gbt_bins *b = &sh->tw.bins;
	int32_t    *left,
			   *right;
	uint32_t   *feat,
			   *bin;
	uint8_t    *flags;
	float	   *val;
	sf_status	st = SF_OK;

	if (!sf_reader_ok(r) || n < 0 || n > sh->node_cap || !sf_reader_has(r, (uint64_t) n, 21))
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	if (n == 0)
		return SF_OK;
	left = sf_malloc(env, sizeof(int32_t) * n);
	right = sf_malloc(env, sizeof(int32_t) * n);
	feat = sf_malloc(env, sizeof(uint32_t) * n);
	bin = sf_malloc(env, sizeof(uint32_t) * n);
	flags = sf_malloc(env, n);
	val = sf_malloc(env, sizeof(float) * n);
	if (!left || !right || !feat || !bin || !flags || !val)
		st = sf_fail(env, SF_ENOMEM, "out of memory reading a job");
	for (k = 0; st == SF_OK && k < n; k++)
	{
		left[k] = sf_read_i32(r);
		right[k] = sf_read_i32(r);
		feat[k] = sf_read_u32(r);
		bin[k] = sf_read_u32(r);
		flags[k] = sf_read_u8(r);
		val[k] = sf_read_f32(r);
		/* children above their parent and in range: every walk ends */
		if (left[k] >= 0 && (left[k] <= k || left[k] >= n || right[k] <= k || right[k] >= n ||
							 feat[k] >= sh->p))
			st = sf_fail(env, SF_ECORRUPT, "job holds a malformed tree");
	}
	for (k = 0; st == SF_OK && k < sh->node_cap; k++)
	{
		size_t		i;

		if (!sh->open[k])
			continue;
		if (k >= n)
		{
			st = sf_fail(env, SF_ECORRUPT, "job's tree lacks a node of this shard");
			break;
		}
		for (i = sh->nb[k]; i < sh->ne[k]; i++)
		{
			uint32_t	row = sh->tw.rows[i];
			int32_t		q = k;

			while (left[q] >= 0)
			{
				uint32_t	c = gbt_code(b, row, feat[q]);

				if (c == b->n_bins[feat[q]])
					q = (flags[q] & 1) ? left[q] : right[q];
				else if (!(flags[q] & 2) && c <= bin[q])
					q = left[q];
				else
					q = right[q];
			}
			sh->mt[row] += val[q];
		}
	}
	sf_free(env, left);
	sf_free(env, right);
	sf_free(env, feat);
	sf_free(env, bin);
	sf_free(env, flags);
	sf_free(env, val);
	return st;
}

/*
 * A histogram in a reply: the count of its non-empty slots, a bitmap of
 * them, their (g, h) pairs.  Deep nodes hold few rows, so most slots are
 * empty; a slot is empty when both sums are exactly zero.
 */
static sf_status
put_hist(sf_env *env, sf_buf *out, const double *h, size_t n_slots)
{
	size_t		s,
				nnz = 0,
				nbits = (n_slots + 7) / 8;
	uint8_t    *bits = sf_calloc(env, nbits ? nbits : 1, 1);
	double	   *v = sf_malloc(env, sizeof(double) * 2 * (n_slots ? n_slots : 1));

	if (bits == NULL || v == NULL)
	{
		sf_free(env, bits);
		sf_free(env, v);
		return sf_fail(env, SF_ENOMEM, "out of memory writing a histogram");
	}
	/* one pass: the bitmap, the non-empty pairs packed; then two bulk writes */
	for (s = 0; s < n_slots; s++)
		if (h[2 * s] != 0.0 || h[2 * s + 1] != 0.0)
		{
			bits[s >> 3] |= (uint8_t) (1u << (s & 7));
			v[2 * nnz] = h[2 * s];
			v[2 * nnz + 1] = h[2 * s + 1];
			nnz++;
		}
	sf_buf_put_u32(out, (uint32_t) nnz);
	sf_buf_put_bytes(out, bits, nbits);
	sf_buf_put_f64s(out, v, 2 * nnz);
	sf_free(env, bits);
	sf_free(env, v);
	return SF_OK;
}

/* A new tree: the gradients of the margins (gbt_train.c's grad_row) and the root. */
static sf_status
start_tree(sf_env *env, gbt_dist_shard *sh, sf_buf *out)
{
	train_work *tw = &sh->tw;
	double		G = 0.0,
				H = 0.0;
	size_t		i;
	int32_t		k;

	for (k = 0; k < sh->node_cap; k++)
	{
		hist_put(tw, sh->nh[k]);
		sh->nh[k] = NULL;
		sh->open[k] = 0;
	}
	for (i = 0; i < sh->n; i++)
	{
		double		pr = sh->objective == GBT_OBJ_BINARY ? 1.0 / (1.0 + exp(-sh->mt[i])) : sh->mt[i],
					wt = (sh->w ? sh->w[i] : 1.0) *
			(sh->objective == GBT_OBJ_BINARY && sh->y[i] == 1.0 ? sh->scale_pos_weight : 1.0),
					g = pr - sh->y[i],
					h = 1.0;

		if (sh->objective == GBT_OBJ_BINARY)
		{
			h = pr * (1.0 - pr);
			if (h < GBT_HESS_EPS)
				h = GBT_HESS_EPS;
		}
		tw->gh[2 * i] = (float) (g * wt);
		tw->gh[2 * i + 1] = (float) (h * wt);
		tw->rows[i] = (uint32_t) i;
		G += tw->gh[2 * i];
		H += tw->gh[2 * i + 1];
	}
	sh->nb[0] = 0;
	sh->ne[0] = sh->n;
	sh->open[0] = 1;
	if ((sh->nh[0] = hist_get(tw)) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for a histogram");
	tw->lb[0] = 0;
	tw->le[0] = sh->n;
	tw->lhist[0] = sh->nh[0];
	gbt_hist_build(env, &tw->bins, tw->gh, tw->rows, 1, tw->lb, tw->le, tw->lhist);
	sf_buf_put_f64(out, G);
	sf_buf_put_f64(out, H);
	return put_hist(env, out, sh->nh[0], tw->n_slots);
}

/* A level job's splits, checked against the shard's open nodes. */
static sf_status
read_level(sf_env *env, sf_reader *r, gbt_dist_shard *sh, uint32_t *n_split)
{
	int			level_cap = (sh->node_cap - 1) / 2;
	uint32_t	k;

	*n_split = sf_read_u32(r);
	if (!sf_reader_ok(r) || *n_split > (uint32_t) level_cap || !sf_reader_has(r, *n_split, 22))
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	for (k = 0; k < *n_split; k++)
	{
		gbt_split  *s = &sh->sp[k];
		uint8_t		flags;
		int32_t		id = sf_read_i32(r),
					l,
					rr;

		memset(s, 0, sizeof(*s));
		s->feature = sf_read_u32(r);
		s->bin = sf_read_u32(r);
		flags = sf_read_u8(r);
		s->default_left = flags & 1;
		s->all_right = (flags & 2) != 0;
		l = sf_read_i32(r);
		rr = sf_read_i32(r);
		sh->sp_want_right[k] = sf_read_u8(r);
		if (id < 0 || id >= sh->node_cap || !sh->open[id] || sh->nh[id] == NULL ||
			s->feature >= sh->p || l <= id || rr <= id || l >= sh->node_cap || rr >= sh->node_cap ||
			l == rr || sh->open[l] || sh->open[rr] || sh->nh[l] || sh->nh[rr])
			return sf_fail(env, SF_ECORRUPT, "job splits a node this shard does not hold");
		sh->sp_node[k] = id;
		sh->sp_left[k] = l;
		sh->sp_right[k] = rr;
		sh->open[id] = 0;		/* until the next split: a node split twice is refused */
		sh->open[l] = sh->open[rr] = 1;
	}
	return SF_OK;
}

/*
 * A level: the split nodes' rows partitioned (gbt_grow.c's partition), the
 * locally smaller child's histogram built and the larger one's the
 * parent's minus it, and the child the coordinator wants sent.
 */
static sf_status
grow_level(sf_env *env, gbt_dist_shard *sh, uint32_t n_split, sf_buf *out)
{
	train_work *tw = &sh->tw;
	uint32_t	k;
	size_t		s;

	for (k = 0; k < n_split; k++)
	{
		tw->part[k].begin = sh->nb[sh->sp_node[k]];
		tw->part[k].end = sh->ne[sh->sp_node[k]];
		tw->part[k].split = &sh->sp[k];
	}
	partition_level(tw, (int) n_split);
	for (k = 0; k < n_split; k++)
	{
		int32_t		l = sh->sp_left[k],
					r = sh->sp_right[k];
		int32_t		small;

		sh->nb[l] = tw->part[k].begin;
		sh->ne[l] = sh->nb[r] = tw->part[k].mid;
		sh->ne[r] = tw->part[k].end;
		small = sh->ne[l] - sh->nb[l] <= sh->ne[r] - sh->nb[r] ? l : r;
		if ((sh->nh[small] = hist_get(tw)) == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory for a histogram");
		tw->lb[k] = sh->nb[small];
		tw->le[k] = sh->ne[small];
		tw->lhist[k] = sh->nh[small];
	}
	gbt_hist_build(env, &tw->bins, tw->gh, tw->rows, (int) n_split, tw->lb, tw->le, tw->lhist);
	for (k = 0; k < n_split; k++)
	{
		int32_t		id = sh->sp_node[k],
					l = sh->sp_left[k],
					r = sh->sp_right[k];
		int32_t		large = sh->nh[l] ? r : l,
					want = sh->sp_want_right[k] ? r : l;
		double	   *parent = sh->nh[id];

		for (s = 0; s < 2 * tw->n_slots; s++)
			parent[s] -= sh->nh[large == l ? r : l][s];
		sh->nh[large] = parent;
		sh->nh[id] = NULL;
		/* no sums: the coordinator has the children's from the split search */
		if (put_hist(env, out, sh->nh[want], tw->n_slots) != SF_OK)
			return SF_ENOMEM;
	}
	return SF_OK;
}

sf_status
gbt_dist_shard_step(sf_env *env, gbt_dist_shard *sh, const uint8_t *job, size_t job_len, sf_buf *out)
{
	sf_reader	r;
	uint32_t	seq,
				n_split = 0;
	int			type,
				metric = 0,
				want_root = 0;
	double		acc = 0.0,
				sw = 0.0;
	sf_status	st = SF_OK;

	sf_reader_init(&r, job, job_len);
	if (sf_read_u32(&r) != JOB_MAGIC)
		return sf_fail(env, SF_ECORRUPT, "not a job of xgb_train_sharded");
	seq = sf_read_u32(&r);
	type = sf_read_u8(&r);
	if (!sf_reader_ok(&r))
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	if (seq != sh->seq || (seq == 0) != (type == JOB_START))
		return sf_fail(env, SF_ECORRUPT, "job %u of the training came as the shard's job %u: the shard lost its state",
					   (unsigned) seq + 1, (unsigned) sh->seq + 1);
	sh->seq++;
	sh->tw.env = env;
	if (type == JOB_START)
		st = read_start(env, &r, sh);
	if (st == SF_OK && (type == JOB_START || type == JOB_TREE))
	{
		if ((st = apply_tree(env, &r, sh)) == SF_OK)
		{
			metric = sf_read_u8(&r);
			want_root = sf_read_u8(&r);
		}
	}
	else if (st == SF_OK && type == JOB_LEVEL)
		st = read_level(env, &r, sh, &n_split);
	else if (st == SF_OK)
		st = sf_fail(env, SF_ECORRUPT, "job of an unknown type %d", type);
	if (st == SF_OK && (!sf_reader_ok(&r) || sf_reader_left(&r) != 0))
		st = sf_fail(env, SF_ECORRUPT, "job has the wrong length");
	if (st != SF_OK)
	{
		sh->seq = UINT32_MAX;	/* a half-applied job: every later one is refused */
		return st;
	}
	if (metric)
		metric_sums(sh, metric, &acc, &sw);
	sf_buf_put_u32(out, REPLY_MAGIC);
	sf_buf_put_u32(out, type == JOB_LEVEL ? n_split : (uint32_t) (want_root != 0));
	sf_buf_put_f64(out, acc);
	sf_buf_put_f64(out, sw);
	if (sf_interrupted(env))
		st = sf_fail(env, SF_ECANCEL, "canceled");
	else if (type == JOB_LEVEL)
		st = grow_level(env, sh, n_split, out);
	else if (want_root)
		st = start_tree(env, sh, out);
	if (st != SF_OK)
		sh->seq = UINT32_MAX;
	else if (sf_buf_status(out) != SF_OK)
		st = sf_fail(env, SF_ENOMEM, "out of memory writing the histograms");
	else if (type != JOB_LEVEL && !want_root)
		sh->done = 1;
	return st;
}

int
gbt_dist_shard_done(const gbt_dist_shard *sh)
{
	return sh->done;
}
