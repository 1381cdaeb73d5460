/*
 * gbt_dist.c
 *	  Sharded training of gradient-boosted trees (gbt_dist.h): the shard's
 *	  sketch and histograms, the coordinator's merge of the sketches into
 *	  bin edges, and the coordinator's depthwise grower.
 *
 * Sameness with gbt_train over the union of the rows:
 * - bin edges: gbt_hist.c's cuts come from a sort of every value of a
 *   feature (distinct values, or weighted quantiles over them).  A shard
 *   sends its sorted distinct values with their counts and weight sums;
 *   merged in shard order they are that sort, so the edges are the same
 *   (bit for bit without weights: the counts are exact; with weights a
 *   quantile's cumulative weight is summed in another order).
 * - trees: the coordinator repeats gbt_grow.c level by level (the same
 *   feature sampling stream, gbt_split_find on the merged histograms, the
 *   smaller child's histogram and the larger one as the parent's minus it,
 *   the same leaf weights), so it differs only where a sum of gradients is
 *   taken in another order: each shard sums its rows, the coordinator sums
 *   the shards in a fixed order.  The same sums in the single server's row
 *   order (or an exact accumulator on both sides) would make the bytes equal.
 * - margins: a shard starts every row at the base margin and adds the
 *   finished trees' leaf values in tree order, in double, as gbt_train does.
 *
 * A shard needs no state between jobs: it can recompute its rows' margins
 * from the finished trees of every job (rows times trees times depth steps
 * per level).  The host may keep the margins of the last job instead
 * (gbt_dist_margins); the next job then adds only the trees it lacks, in the
 * same order, so the result is the same doubles.
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

/* Leaf of a tree for row x (float32 compares, as scoring and gbt_train's route_raw). */
static int32_t
route_raw(const gbt_tree *t, const double *x)
{
	int32_t		k = 0;

	while (t->left[k] >= 0)
	{
		float		v = (float) x[t->split_index[k]];

		if (isnan(v))
			k = t->default_left[k] ? t->left[k] : t->right[k];
		else
			k = v < t->split_cond[k] ? t->left[k] : t->right[k];
	}
	return k;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a,
				y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------ sketch (shard) */

/* One feature: sorted distinct values (by key, rows in order within a value). */
static sf_status
sketch_feature(sf_env *env, const double *x, const double *w, size_t n, uint32_t p, uint32_t j,
			   uint64_t *keys, sf_buf *out)
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
	qsort(keys, m, sizeof(uint64_t), cmp_u64);
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
		sf_buf_put_u64(out, k - i);
		sf_buf_put_f64(out, wv);
	}
	return SF_OK;
}

sf_status
gbt_dist_sketch(sf_env *env, const double *x, const double *y, const double *w, size_t n,
				uint32_t p, sf_buf *out)
{
	uint64_t   *keys;
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
	if ((keys = sf_malloc(env, sizeof(uint64_t) * (n ? n : 1))) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory sketching the rows");
	for (j = 0; j < p && st == SF_OK; j++)
	{
		if (sf_interrupted(env))
			st = sf_fail(env, SF_ECANCEL, "canceled");
		else
			st = sketch_feature(env, x, w, n, p, j, keys, out);
	}
	sf_free(env, keys);
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

static int
cmp_entry(const void *a, const void *b)
{
	const merge_entry *x = a,
			   *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->shard < y->shard ? -1 : x->shard > y->shard;
}

/* Read the entries of feature j from every shard (in order) into e; *ne gets their count. */
static sf_status
merge_read_feature(sf_env *env, sketch_view *sv, int ns, merge_entry **e, size_t *cap, size_t *ne,
				   uint64_t *m, double *total, int *missing)
{
	int			s;

	*ne = 0;
	*m = 0;
	*total = 0.0;
	*missing = 0;
	for (s = 0; s < ns; s++)
	{
		sf_reader  *r = &sv[s].r;
		uint32_t	nd,
					i;

		*missing |= sf_read_u8(r) != 0;
		*m += sf_read_u64(r);
		*total += sf_read_f64(r);
		nd = sf_read_u32(r);
		if (!sf_reader_ok(r) || !sf_reader_has(r, nd, 20))
			return sf_fail(env, SF_ECORRUPT, "sketch of shard %d is truncated", s + 1);
		if (*ne + nd > *cap)
		{
			size_t		nc = (*ne + nd) * 2;
			merge_entry *ng = sf_malloc(env, sizeof(merge_entry) * nc);

			if (ng == NULL)
				return sf_fail(env, SF_ENOMEM, "out of memory merging the sketches");
			if (*ne)
				memcpy(ng, *e, sizeof(merge_entry) * *ne);
			sf_free(env, *e);
			*e = ng;
			*cap = nc;
		}
		for (i = 0; i < nd; i++)
		{
			merge_entry *x = &(*e)[(*ne)++];

			x->v = sf_read_f32(r);
			x->count = sf_read_u64(r);
			x->weight = sf_read_f64(r);
			x->key = float_key(x->v);
			x->shard = (uint32_t) s;
			if (isnan(x->v) || isinf(x->v))
				return sf_fail(env, SF_ECORRUPT, "sketch of shard %d holds a non-finite value", s + 1);
		}
	}
	qsort(*e, *ne, sizeof(merge_entry), cmp_entry);
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
	merge_entry *e = NULL;
	float	   *cuts = NULL;
	size_t		cap = 0,
				ne;
	uint32_t	j,
				p;
	sf_status	st;

	memset(b, 0, sizeof(*b));
	if (sv == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory merging the sketches");
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

		if ((st = merge_read_feature(env, sv, ns, &e, &cap, &ne, &m, &total, &missing)) != SF_OK)
			goto done;
		b->has_missing[j] = (uint8_t) missing;
		merge_cuts(e, ne, tot->weighted ? total : (double) m, tot->weighted, max_bin,
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
	sf_free(env, e);
	sf_free(env, cuts);
	return st;
}

/* ------------------------------------------------------------ jobs */

void
gbt_dist_put_tree(sf_buf *b, const gbt_tree *t, int32_t n_nodes)
{
	sf_buf_put_i32(b, n_nodes);
	sf_buf_put_i32s(b, t->left, n_nodes);
	sf_buf_put_i32s(b, t->right, n_nodes);
	sf_buf_put_i32s(b, (const int32_t *) t->split_index, n_nodes);
	sf_buf_put_f32s(b, t->split_cond, n_nodes);
	sf_buf_put_bytes(b, t->default_left, n_nodes);
}

/* A tree of a job, pointing into the job's bytes where alignment allows; else copied. */
static sf_status
get_tree(sf_env *env, sf_reader *r, uint32_t p, gbt_tree *t)
{
	int32_t		n = sf_read_i32(r),
				k;

	memset(t, 0, sizeof(*t));
	if (!sf_reader_ok(r) || n < 0 || !sf_reader_has(r, (uint64_t) n, 17))
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	t->n_nodes = n;
	t->left = sf_malloc(env, sizeof(int32_t) * (n ? n : 1));
	t->right = sf_malloc(env, sizeof(int32_t) * (n ? n : 1));
	t->split_index = sf_malloc(env, sizeof(uint32_t) * (n ? n : 1));
	t->split_cond = sf_malloc(env, sizeof(float) * (n ? n : 1));
	t->default_left = sf_malloc(env, n ? n : 1);
	if (!t->left || !t->right || !t->split_index || !t->split_cond || !t->default_left)
		return sf_fail(env, SF_ENOMEM, "out of memory reading a job");
	sf_read_i32s(r, t->left, n);
	sf_read_i32s(r, t->right, n);
	sf_read_i32s(r, (int32_t *) t->split_index, n);
	sf_read_f32s(r, t->split_cond, n);
	memcpy(t->default_left, sf_read_bytes(r, n), n);
	/* children above their parent and in range: every walk ends */
	for (k = 0; k < n; k++)
		if (t->left[k] >= 0 &&
			(t->left[k] <= k || t->left[k] >= n || t->right[k] <= k || t->right[k] >= n ||
			 t->split_index[k] >= p))
			return sf_fail(env, SF_ECORRUPT, "job holds a malformed tree");
	return SF_OK;
}

static void
free_tree_arrays(sf_env *env, gbt_tree *t)
{
	sf_free(env, t->left);
	sf_free(env, t->right);
	sf_free(env, t->split_index);
	sf_free(env, t->split_cond);
	sf_free(env, t->default_left);
}

/* ------------------------------------------------------------ histograms (shard) */

typedef struct shard_job
{
	uint32_t	p;
	int			objective;
	float		base_margin;
	double		scale_pos_weight;
	uint32_t   *n_bins,
			   *off;
	float	   *cuts;
	int32_t		n_trees;
	gbt_tree   *trees;
	gbt_tree	cur;
	int			metric;
	uint32_t	n_want;
	int32_t    *want;
	uint64_t   *tree_hash;		/* (n_trees + 1) hash of the bytes of trees [0, k) */
	uint64_t	cuts_hash;		/* hash of the bytes of the bin edges */
} shard_job;

static void
free_job(sf_env *env, shard_job *j)
{
	int32_t		k;

	sf_free(env, j->n_bins);
	sf_free(env, j->off);
	sf_free(env, j->cuts);
	for (k = 0; j->trees && k < j->n_trees; k++)
		free_tree_arrays(env, &j->trees[k]);
	sf_free(env, j->trees);
	free_tree_arrays(env, &j->cur);
	sf_free(env, j->want);
	sf_free(env, j->tree_hash);
}

/* FNV-1a over bytes, continuing from h. */
static uint64_t
fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001B3ull;
	return h;
}

static sf_status
read_job(sf_env *env, const uint8_t *buf, size_t len, uint32_t p, shard_job *j)
{
	sf_reader	r;
	const uint8_t *edges;
	uint32_t	f;
	int32_t		k;
	sf_status	st;

	memset(j, 0, sizeof(*j));
	sf_reader_init(&r, buf, len);
	if (sf_read_u32(&r) != JOB_MAGIC)
		return sf_fail(env, SF_ECORRUPT, "not a job of xgb_train_sharded");
	j->p = sf_read_u32(&r);
	if (sf_reader_ok(&r) && j->p != p)
		return sf_fail(env, SF_EDATA, "features has %u elements on this shard, the model %u",
					   (unsigned) p, (unsigned) j->p);
	j->objective = sf_read_u8(&r);
	j->base_margin = sf_read_f32(&r);
	j->scale_pos_weight = sf_read_f64(&r);
	j->n_bins = sf_malloc(env, sizeof(uint32_t) * p);
	j->off = sf_malloc(env, sizeof(uint32_t) * ((size_t) p + 1));
	if (!sf_reader_ok(&r) || !j->n_bins || !j->off || !sf_reader_has(&r, p, 4))
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	edges = r.p;
	j->off[0] = 0;
	for (f = 0; f < p; f++)
	{
		j->n_bins[f] = sf_read_u32(&r);
		/* the slots must fit the uint32 offsets (and a histogram the memory cap) */
		if (j->n_bins[f] < 1 || j->n_bins[f] > GBT_MAX_BIN ||
			(uint64_t) j->off[f] + j->n_bins[f] + 1 > (uint64_t) INT32_MAX / 4)
			return sf_fail(env, SF_ECORRUPT, "job holds a bad bin count");
		j->off[f + 1] = j->off[f] + j->n_bins[f] + 1;
	}
	if (!sf_reader_has(&r, j->off[p] - p, 4) ||
		(j->cuts = sf_malloc(env, sizeof(float) * (j->off[p] - p))) == NULL)
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	sf_read_f32s(&r, j->cuts, j->off[p] - p);
	j->cuts_hash = fnv1a(0xCBF29CE484222325ull, edges, (size_t) (r.p - edges));
	j->n_trees = sf_read_i32(&r);
	if (!sf_reader_ok(&r) || j->n_trees < 0 || j->n_trees > GBT_MAX_ROUNDS ||
		(j->trees = sf_calloc(env, j->n_trees ? j->n_trees : 1, sizeof(gbt_tree))) == NULL ||
		(j->tree_hash = sf_malloc(env, sizeof(uint64_t) * ((size_t) j->n_trees + 1))) == NULL)
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	j->tree_hash[0] = 0xCBF29CE484222325ull;
	for (k = 0; k < j->n_trees; k++)
	{
		const uint8_t *at = r.p;

		if ((st = get_tree(env, &r, p, &j->trees[k])) != SF_OK)
			return st;
		j->tree_hash[k + 1] = fnv1a(j->tree_hash[k], at, (size_t) (r.p - at));
	}
	if ((st = get_tree(env, &r, p, &j->cur)) != SF_OK)
		return st;
	j->metric = sf_read_u8(&r);
	j->n_want = sf_read_u32(&r);
	if (!sf_reader_ok(&r) || !sf_reader_has(&r, j->n_want, 4) ||
		(j->want = sf_malloc(env, sizeof(int32_t) * (j->n_want ? j->n_want : 1))) == NULL)
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	sf_read_i32s(&r, j->want, j->n_want);
	for (f = 0; f < j->n_want; f++)
		if (j->want[f] < 0 || j->want[f] >= j->cur.n_nodes)
			return sf_fail(env, SF_ECORRUPT, "job wants a node the tree does not have");
	if (!sf_reader_ok(&r))
		return sf_fail(env, SF_ECORRUPT, "job is truncated");
	return SF_OK;
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

/* The training metric sums of margins mt (gbt_train.c's PASS_METRIC). */
static void
metric_sums(const shard_job *j, const double *mt, const double *y, const double *w, size_t n,
			double *acc_out, double *sw_out)
{
	double		acc = 0.0,
				sw = 0.0;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		double		wi = w ? w[i] : 1.0;

		if (j->metric == GBT_METRIC_LOGLOSS)
		{
			double		pr = 1.0 / (1.0 + exp(-mt[i]));

			if (pr < 1e-16)
				pr = 1e-16;
			if (pr > 1.0 - 1e-16)
				pr = 1.0 - 1e-16;
			acc -= wi * (y[i] > 0.5 ? log(pr) : log(1.0 - pr));
		}
		else
		{
			double		pr = j->objective == GBT_OBJ_BINARY ? 1.0 / (1.0 + exp(-mt[i])) : mt[i];

			acc += wi * (pr - y[i]) * (pr - y[i]);
		}
		sw += wi;
	}
	*acc_out = acc;
	*sw_out = sw;
}

/* Code of value v of feature f: its bin, n_bins[f] when missing (gbt_int.h's layout). */
static inline uint32_t
code_of(const shard_job *j, uint32_t f, float v)
{
	return isnan(v) ? j->n_bins[f] : bin_of(j->cuts + j->off[f] - f, j->n_bins[f], v);
}

/* The codes of every row under the job's edges, once per training (gbt_dist_margins). */
static void
fill_codes(const shard_job *j, gbt_dist_margins *cache, const double *x, size_t n)
{
	size_t		i;
	uint32_t	f;

	if (cache->codes_ok && cache->cuts_hash == j->cuts_hash)
		return;
	for (i = 0; i < n; i++)
		for (f = 0; f < j->p; f++)
			cache->codes[i * j->p + f] = (uint16_t) code_of(j, f, (float) x[i * j->p + f]);
	cache->codes_ok = 1;
	cache->cuts_hash = j->cuts_hash;
}

/*
 * Add row i's gradient pair to the histogram of the node it reaches, if
 * wanted; ci is the row's codes when kept, else NULL (looked up here).
 */
static void
hist_row(const shard_job *j, const double *xi, const uint16_t *ci, float g, float h,
		 const int32_t *slot, uint64_t *cnt, double *G, double *H, double *const *hist)
{
	int32_t		s = slot[route_raw(&j->cur, xi)];
	double	   *hs;
	uint32_t	f;

	if (s < 0)
		return;
	cnt[s]++;
	G[s] += g;
	H[s] += h;
	hs = hist[s];
	for (f = 0; f < j->p; f++)
	{
		uint32_t	code = ci ? ci[f] : code_of(j, f, (float) xi[f]);
		double	   *c = hs + 2 * (size_t) (j->off[f] + code);

		c[0] += g;
		c[1] += h;
	}
}

/* Per wanted node: row count, gradient and hessian sums and histogram, appended to out. */
static sf_status
shard_histograms(sf_env *env, const shard_job *j, const double *mt, const double *x,
				 const uint16_t *codes, const double *y, const double *w, size_t n, sf_buf *out)
{
	size_t		slots = 2 * (size_t) j->off[j->p],
				i;
	int32_t    *slot = sf_malloc(env, sizeof(int32_t) * (j->cur.n_nodes ? j->cur.n_nodes : 1));
	uint64_t   *cnt = sf_calloc(env, j->n_want ? j->n_want : 1, sizeof(uint64_t));
	double	   *G = sf_calloc(env, j->n_want ? j->n_want : 1, sizeof(double));
	double	   *H = sf_calloc(env, j->n_want ? j->n_want : 1, sizeof(double));
	double	  **hist = sf_calloc(env, j->n_want ? j->n_want : 1, sizeof(double *));
	sf_status	st = SF_OK;
	uint32_t	k;

	if (!slot || !cnt || !G || !H || !hist)
		st = sf_fail(env, SF_ENOMEM, "out of memory for the histograms");
	for (k = 0; st == SF_OK && k < j->n_want; k++)
		if ((hist[k] = sf_calloc(env, slots, sizeof(double))) == NULL)
			st = sf_fail(env, SF_ENOMEM, "out of memory for the histograms");
	if (st == SF_OK)
	{
		for (i = 0; i < (size_t) j->cur.n_nodes; i++)
			slot[i] = -1;
		for (k = 0; k < j->n_want; k++)
			slot[j->want[k]] = (int32_t) k;
		for (i = 0; i < n; i++)
		{
			double		g,
						h,
						wt = (w ? w[i] : 1.0) *
				(j->objective == GBT_OBJ_BINARY && y[i] == 1.0 ? j->scale_pos_weight : 1.0);

			if ((i & 65535) == 0 && sf_interrupted(env))
			{
				st = sf_fail(env, SF_ECANCEL, "canceled");
				break;
			}
			/* gbt_train.c's PASS_GRAD, kept in float32 as XGBoost keeps them */
			if (j->objective == GBT_OBJ_BINARY)
			{
				double		pr = 1.0 / (1.0 + exp(-mt[i]));

				g = pr - y[i];
				h = pr * (1.0 - pr);
				if (h < GBT_HESS_EPS)
					h = GBT_HESS_EPS;
			}
			else
			{
				g = mt[i] - y[i];
				h = 1.0;
			}
			hist_row(j, x + i * j->p, codes ? codes + i * j->p : NULL, (float) (g * wt),
					 (float) (h * wt), slot, cnt, G, H, hist);
		}
	}
	for (k = 0; st == SF_OK && k < j->n_want; k++)
	{
		sf_buf_put_u64(out, cnt[k]);
		sf_buf_put_f64(out, G[k]);
		sf_buf_put_f64(out, H[k]);
		sf_buf_put_f64s(out, hist[k], slots);
	}
	for (k = 0; hist && k < j->n_want; k++)
		sf_free(env, hist[k]);
	sf_free(env, hist);
	sf_free(env, slot);
	sf_free(env, cnt);
	sf_free(env, G);
	sf_free(env, H);
	return st;
}

/* FNV-1a's step over 64-bit words (the rows are doubles): a word per multiply. */
static uint64_t
hash_words(uint64_t h, const double *v, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		uint64_t	u;

		memcpy(&u, &v[i], 8);
		h = (h ^ u) * 0x100000001B3ull;
		h ^= h >> 29;
	}
	return h;
}

uint64_t
gbt_dist_rows_hash(const double *x, const double *y, const double *w, size_t n, uint32_t p)
{
	uint64_t	h = fnv1a(0xCBF29CE484222325ull, (const uint8_t *) &n, sizeof(n));

	h = fnv1a(h, (const uint8_t *) &p, sizeof(p));
	h = hash_words(h, x, n * p);
	h = hash_words(h, y, n);
	if (w)
		h = hash_words(h, w, n);
	return h;
}

/*
 * The first finished tree whose leaf values the margins lack: 0 with the
 * margins reset to the base margin, or the cache's count when the job's
 * trees start with the cache's trees (the margins are then the cache's).
 */
static int32_t
margins_start(const shard_job *j, gbt_dist_margins *cache, size_t n, double *mt)
{
	size_t		i;

	if (cache && cache->n == n && cache->n_trees >= 0 && cache->n_trees <= j->n_trees &&
		memcmp(&cache->base_margin, &j->base_margin, sizeof(float)) == 0 &&
		cache->trees_hash == j->tree_hash[cache->n_trees])
		return cache->n_trees;
	for (i = 0; i < n; i++)
		mt[i] = j->base_margin;
	return 0;
}

sf_status
gbt_dist_shard_hist(sf_env *env, const uint8_t *job, size_t job_len, const double *x,
					const double *y, const double *w, size_t n, uint32_t p,
					gbt_dist_margins *cache, sf_buf *out)
{
	shard_job	j;
	double	   *own = NULL,
			   *mt,
				acc = 0.0,
				sw = 0.0;
	size_t		i;
	int32_t		t;
	sf_status	st;

	if ((st = read_job(env, job, job_len, p, &j)) != SF_OK)
		goto done;
	if (cache && cache->n != n)
		cache = NULL;			/* kept for other rows: not ours to use */
	if (cache)
		mt = cache->mt;
	else if ((mt = own = sf_malloc(env, sizeof(double) * (n ? n : 1))) == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for the margins");
		goto done;
	}
	/* the margins of the finished trees, summed in tree order as gbt_train does */
	t = margins_start(&j, cache, n, mt);
	if (cache)
		cache->n_trees = -1;	/* until the margins are whole again */
	for (; t < j.n_trees; t++)
	{
		if (sf_interrupted(env))
		{
			st = sf_fail(env, SF_ECANCEL, "canceled");
			goto done;
		}
		for (i = 0; i < n; i++)
			mt[i] += j.trees[t].split_cond[route_raw(&j.trees[t], x + i * p)];
	}
	if (cache)
	{
		cache->n_trees = j.n_trees;
		cache->trees_hash = j.tree_hash[j.n_trees];
		cache->base_margin = j.base_margin;
	}
	if (j.metric)
		metric_sums(&j, mt, y, w, n, &acc, &sw);
	sf_buf_put_u32(out, REPLY_MAGIC);
	sf_buf_put_u32(out, j.n_want);
	sf_buf_put_f64(out, acc);
	sf_buf_put_f64(out, sw);
	if (j.n_want > 0 && cache && cache->codes)
		fill_codes(&j, cache, x, n);
	if (j.n_want > 0)
		st = shard_histograms(env, &j, mt, x, cache && cache->codes ? cache->codes : NULL,
							  y, w, n, out);
	if (st == SF_OK && sf_buf_status(out) != SF_OK)
		st = sf_fail(env, SF_ENOMEM, "out of memory writing the histograms");
done:
	free_job(env, &j);
	sf_free(env, own);
	return st;
}

