/*
 * gbt_dist_shard.c
 *	  The shard's side of a sharded training of gradient-boosted trees
 *	  (gbt_dist.h), after its sketch: the state of one training
 *	  (gbt_dist_shard) and the jobs it answers (the bin edges, a tree's root,
 *	  a level's histograms, the finished trees' margins).  gbt_dist.c has
 *	  the sketch and the coordinator's merge of the sketches, and why the
 *	  model equals gbt_train's over the union of the rows.
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
	sf_free_all(env, sh->mt, sh->nb, sh->ne, sh->open, sh->nh, sh->sp, sh->sp_node, sh->sp_left, sh->sp_right,
				sh->sp_want_right, sh);
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
	if (!sf_alloc_all(env, SF_MALLOC_N(sh->mt, sh->n ? sh->n : 1), SF_CALLOC_N(sh->nb, sh->node_cap),
					  SF_CALLOC_N(sh->ne, sh->node_cap), SF_CALLOC_N(sh->open, sh->node_cap),
					  SF_CALLOC_N(sh->nh, sh->node_cap), SF_CALLOC_N(sh->sp, level_cap),
					  SF_CALLOC_N(sh->sp_node, level_cap), SF_CALLOC_N(sh->sp_left, level_cap),
					  SF_CALLOC_N(sh->sp_right, level_cap), SF_CALLOC_N(sh->sp_want_right, level_cap)))
		return sf_fail(env, SF_ENOMEM, "out of memory for the shard's state");
	for (k = 0; k < (int32_t) sh->n; k++)
		sh->mt[k] = sh->base_margin;
	return SF_OK;
}

/*
 * One pass over the rows after a tree: the training metric sums of the
 * margins (gbt_train.c's PASS_METRIC) when metric is set, and with grad the
 * next tree's gradients (its grad_row) and their totals G and H, the rows
 * listed in order for the root.  A row's probability is computed once for
 * both, with the same arithmetic as each alone.
 */
static void
row_pass(gbt_dist_shard *sh, int metric, int grad, double *acc_out, double *sw_out,
		 double *G_out, double *H_out)
{
	train_work *tw = &sh->tw;
	int			binary = sh->objective == GBT_OBJ_BINARY;
	double		acc = 0.0,
				sw = 0.0,
				G = 0.0,
				H = 0.0;
	size_t		i;

	for (i = 0; i < sh->n; i++)
	{
		double		wi = sh->w ? sh->w[i] : 1.0,
					m = sh->mt[i],
					sig = binary || metric == GBT_METRIC_LOGLOSS ? 1.0 / (1.0 + exp(-m)) : 0.0,
					pr = binary ? sig : m;

		if (metric == GBT_METRIC_LOGLOSS)
		{
			double		pc = sig < 1e-16 ? 1e-16 : sig > 1.0 - 1e-16 ? 1.0 - 1e-16 : sig;

			acc -= wi * (sh->y[i] > 0.5 ? log(pc) : log(1.0 - pc));
		}
		else if (metric)
			acc += wi * (pr - sh->y[i]) * (pr - sh->y[i]);
		sw += wi;
		if (grad)
		{
			double		wt = wi * (binary && sh->y[i] == 1.0 ? sh->scale_pos_weight : 1.0),
						h = 1.0;

			if (binary)
			{
				h = pr * (1.0 - pr);
				if (h < GBT_HESS_EPS)
					h = GBT_HESS_EPS;
			}
			tw->gh[2 * i] = (float) ((pr - sh->y[i]) * wt);
			tw->gh[2 * i + 1] = (float) (h * wt);
			tw->rows[i] = (uint32_t) i;
			G += tw->gh[2 * i];
			H += tw->gh[2 * i + 1];
		}
	}
	*acc_out = metric ? acc : 0.0;
	*sw_out = metric ? sw : 0.0;
	*G_out = G;
	*H_out = H;
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
	if (!sf_alloc_all(env, SF_MALLOC_N(left, n), SF_MALLOC_N(right, n), SF_MALLOC_N(feat, n), SF_MALLOC_N(bin, n),
					  SF_MALLOC_N(flags, n), SF_MALLOC_N(val, n)))
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
				/* the column-major copy: a node's rows read one feature's column, which stays in cache */
				uint32_t	c = gbt_code_t(b, row, feat[q]);

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
	sf_free_all(env, left, right, feat, bin, flags, val);
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
	if (dist_host_le())
		sf_buf_put_bytes(out, v, sizeof(double) * 2 * nnz);
	else
		sf_buf_put_f64s(out, v, 2 * nnz);
	sf_free(env, bits);
	sf_free(env, v);
	return SF_OK;
}

/* A new tree's root (the gradients and their totals from row_pass): its sums and histogram. */
static sf_status
start_tree(sf_env *env, gbt_dist_shard *sh, double G, double H, sf_buf *out)
{
	train_work *tw = &sh->tw;
	int32_t		k;

	for (k = 0; k < sh->node_cap; k++)
	{
		hist_put(tw, sh->nh[k]);
		sh->nh[k] = NULL;
		sh->open[k] = 0;
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
				sw = 0.0,
				G = 0.0,
				H = 0.0;
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
	if (metric || want_root)
		row_pass(sh, metric, want_root, &acc, &sw, &G, &H);
	sf_buf_put_u32(out, REPLY_MAGIC);
	sf_buf_put_u32(out, type == JOB_LEVEL ? n_split : (uint32_t) (want_root != 0));
	sf_buf_put_f64(out, acc);
	sf_buf_put_f64(out, sw);
	if (sf_interrupted(env))
		st = sf_fail(env, SF_ECANCEL, "canceled");
	else if (type == JOB_LEVEL)
		st = grow_level(env, sh, n_split, out);
	else if (want_root)
		st = start_tree(env, sh, G, H, out);
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
