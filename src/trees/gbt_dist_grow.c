/*
 * gbt_dist_grow.c
 *	  The coordinator of sharded tree training (gbt_dist.h): jobs out,
 *	  replies merged in a fixed shard order, and the trees grown level by
 *	  level with gbt_grow.c's own steps (sample_features, find_level_splits,
 *	  apply_level_splits, close_leaf) on a train_work that holds no rows: the
 *	  histograms come from the shards.
 *
 * Per split the coordinator asks for one child's histogram (the one with
 * the smaller hessian sum: it knows no row counts) and takes the other as
 * the parent's minus it, as gbt_grow.c does with the smaller child; the
 * children at the maximum depth get no histogram (they become leaves from
 * their sums), so the last level costs no exchange.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "scfrisk/gbt_dist.h"
#include "scfrisk/sf_rng.h"
#include "gbt_int.h"
#include "gbt_dist_int.h"

typedef struct dist_work
{
	sf_env	   *env;
	const gbt_params *prm;
	const gbt_dist_io *io;
	train_work	tw;				/* the union's bin edges (no codes), the tree, the levels */
	int32_t		node_cap;
	size_t	   *leaf_begin,
			   *leaf_end;		/* (node_cap) what close_leaf records; unused here */
	float		base_margin;
	int			metric;
	uint32_t	seq;			/* jobs sent */
	int			have_tree;		/* tw.t holds a finished tree the shards have not seen */
	sf_buf		job;
	/* the merged reply of the last exchange (hists from hist_get) */
	double	   *r_g,
			   *r_h;
	double	  **r_hist;
	double	   *r_scratch;		/* (2 n_slots) a reply's packed values */
	double		r_acc,
				r_sw;
	double		root_acc,
				root_sw;		/* the metric sums the last root's job brought */
} dist_work;

/* The job header, the first job's constants and edges. */
static void
put_header(dist_work *w, int type)
{
	sf_buf	   *b = &w->job;
	const gbt_bins *bins = &w->tw.bins;
	uint32_t	f;

	b->len = 0;
	sf_buf_put_u32(b, JOB_MAGIC);
	sf_buf_put_u32(b, w->seq);
	sf_buf_put_u8(b, (uint8_t) type);
	if (type != JOB_START)
		return;
	sf_buf_put_u32(b, w->tw.p);
	sf_buf_put_u8(b, (uint8_t) w->prm->objective);
	sf_buf_put_f32(b, w->base_margin);
	sf_buf_put_f64(b, w->prm->scale_pos_weight);
	sf_buf_put_u32(b, (uint32_t) w->prm->max_depth);
	for (f = 0; f < w->tw.p; f++)
		sf_buf_put_u32(b, bins->n_bins[f]);
	for (f = 0; f < w->tw.p; f++)
		sf_buf_put_f32s(b, bins->cuts + bins->off[f], bins->n_bins[f]);
}

/* The finished tree in tw.t (if the shards lack it) with its split bins. */
static void
put_finished_tree(dist_work *w)
{
	const gbt_tree *t = &w->tw.t;
	int32_t		n = w->have_tree ? t->n_nodes : 0,
				k;

	sf_buf_put_i32(&w->job, n);
	for (k = 0; k < n; k++)
	{
		sf_buf_put_i32(&w->job, t->left[k]);
		sf_buf_put_i32(&w->job, t->right[k]);
		sf_buf_put_u32(&w->job, t->split_index[k]);
		sf_buf_put_u32(&w->job, w->tw.t_bin[k]);
		sf_buf_put_u8(&w->job, (uint8_t) ((t->left[k] >= 0 && t->default_left[k]) |
										  (t->left[k] >= 0 && w->tw.t_allright[k] ? 2 : 0)));
		sf_buf_put_f32(&w->job, t->split_cond[k]);
	}
	w->have_tree = 0;
}

/* A reply's histogram (gbt_dist.c's put_hist) added to h; v is 2 * n_slots doubles of scratch. */
static int
add_hist(sf_reader *rd, double *h, size_t n_slots, double *v)
{
	uint32_t	nnz = sf_read_u32(rd),
				k = 0;
	const uint8_t *bits;
	size_t		s;

	if (!sf_reader_ok(rd) || nnz > n_slots || !sf_reader_has(rd, (n_slots + 7) / 8, 1))
		return 0;
	bits = sf_read_bytes(rd, (n_slots + 7) / 8);
	if (!sf_reader_has(rd, nnz, 16))
		return 0;
	if (dist_host_le())
	{
		const uint8_t *src = sf_read_bytes(rd, sizeof(double) * 2 * (size_t) nnz);

		if (src == NULL)
			return 0;
		memcpy(v, src, sizeof(double) * 2 * (size_t) nnz);
	}
	else
		sf_read_f64s(rd, v, 2 * (size_t) nnz);
	for (s = 0; s < n_slots; s++)
		if (bits[s >> 3] & (1u << (s & 7)))
		{
			if (k == nnz)
				return 0;
			h[2 * s] += v[2 * k];
			h[2 * s + 1] += v[2 * k + 1];
			k++;
		}
	return k == nnz;
}

/*
 * Send the job in w->job (n_want histograms asked, with their gradient and
 * hessian sums when with_sums: a root's); merge the replies in shard order.
 */
static sf_status
exchange(dist_work *w, int n_want, int with_sums)
{
	const uint8_t *const *rep;
	const size_t *len;
	int			n_rep,
				s,
				k;
	sf_status	st;

	if (sf_buf_status(&w->job) != SF_OK)
		return sf_fail(w->env, SF_ENOMEM, "out of memory writing a job");
	w->seq++;
	if ((st = w->io->exchange(w->io->ctx, w->job.data, w->job.len, &n_rep, &rep, &len)) != SF_OK)
		return st;
	w->r_acc = w->r_sw = 0.0;
	for (k = 0; k < n_want; k++)
	{
		w->r_g[k] = w->r_h[k] = 0.0;
		if ((w->r_hist[k] = hist_get(&w->tw)) == NULL)
			return sf_fail(w->env, SF_ENOMEM, "out of memory for a histogram");
		memset(w->r_hist[k], 0, sizeof(double) * 2 * w->tw.n_slots);
	}
	for (s = 0; s < n_rep; s++)
	{
		sf_reader	rd;

		sf_reader_init(&rd, rep[s], len[s]);
		if (sf_read_u32(&rd) != REPLY_MAGIC || sf_read_u32(&rd) != (uint32_t) n_want)
			return sf_fail(w->env, SF_ECORRUPT, "reply %d is not an answer to the job", s + 1);
		w->r_acc += sf_read_f64(&rd);
		w->r_sw += sf_read_f64(&rd);
		for (k = 0; k < n_want; k++)
		{
			if (with_sums)
			{
				w->r_g[k] += sf_read_f64(&rd);
				w->r_h[k] += sf_read_f64(&rd);
			}
			if (!add_hist(&rd, w->r_hist[k], w->tw.n_slots, w->r_scratch))
				return sf_fail(w->env, SF_ECORRUPT, "reply %d is truncated", s + 1);
		}
		if (!sf_reader_ok(&rd) || sf_reader_left(&rd) != 0)
			return sf_fail(w->env, SF_ECORRUPT, "reply %d has the wrong length", s + 1);
	}
	return SF_OK;
}

/* The job that starts a tree (or only brings the last one): the tree before it, the metric. */
static sf_status
tree_exchange(dist_work *w, int with_metric, int want_root)
{
	put_header(w, w->seq == 0 ? JOB_START : JOB_TREE);
	put_finished_tree(w);
	sf_buf_put_u8(&w->job, (uint8_t) (with_metric ? w->metric : 0));
	sf_buf_put_u8(&w->job, (uint8_t) want_root);
	return exchange(w, want_root, 1);
}

/* The root of the next tree: its sums and histogram from the shards (and the metric so far). */
static sf_status
grow_root(dist_work *w, int with_metric)
{
	train_work *tw = &w->tw;
	sf_status	st;

	if ((st = tree_exchange(w, with_metric, 1)) != SF_OK)
		return st;
	w->root_acc = w->r_acc;
	w->root_sw = w->r_sw;
	tw->t.n_nodes = 1;
	tw->cur[0].id = 0;
	tw->cur[0].g = w->r_g[0];
	tw->cur[0].h = w->r_h[0];
	tw->cur[0].hist = w->r_hist[0];
	w->r_hist[0] = NULL;
	if (tw->mono)
	{
		tw->w_lower[0] = -FLT_MAX;
		tw->w_upper[0] = FLT_MAX;
	}
	sample_features(tw, NULL, w->prm->colsample_bytree, tw->tree_feat);
	return SF_OK;
}

/*
 * The children's histograms: per split the job names the node, its split
 * and children and the child wanted; the other child's histogram is the
 * parent's minus the wanted one, in the parent's buffer.
 */
static sf_status
child_histograms(dist_work *w, int n_next)
{
	train_work *tw = &w->tw;
	int			pk = 0,
				k;
	sf_status	st;

	put_header(w, JOB_LEVEL);
	sf_buf_put_u32(&w->job, (uint32_t) (n_next / 2));
	for (k = 0; k < n_next; k += 2)
	{
		const gbt_split *s = tw->part[k / 2].split;

		/* the parent of pair k is the next split node of cur (leaves gave their histograms back) */
		while (tw->cur[pk].hist == NULL)
			pk++;
		sf_buf_put_i32(&w->job, tw->cur[pk++].id);
		sf_buf_put_u32(&w->job, s->feature);
		sf_buf_put_u32(&w->job, s->bin);
		sf_buf_put_u8(&w->job, (uint8_t) ((s->default_left ? 1 : 0) | (s->all_right ? 2 : 0)));
		sf_buf_put_i32(&w->job, tw->next[k].id);
		sf_buf_put_i32(&w->job, tw->next[k + 1].id);
		sf_buf_put_u8(&w->job, (uint8_t) (tw->next[k + 1].h < tw->next[k].h));
	}
	if ((st = exchange(w, n_next / 2, 0)) != SF_OK)
		return st;
	for (k = 0, pk = 0; k < n_next; k += 2)
	{
		node_work  *want = tw->next[k + 1].h < tw->next[k].h ? &tw->next[k + 1] : &tw->next[k];
		node_work  *other = want == &tw->next[k] ? &tw->next[k + 1] : &tw->next[k];
		double	   *parent;
		size_t		s;

		while (tw->cur[pk].hist == NULL)
			pk++;
		parent = tw->cur[pk].hist;
		want->hist = w->r_hist[k / 2];
		w->r_hist[k / 2] = NULL;
		for (s = 0; s < 2 * tw->n_slots; s++)
			parent[s] -= want->hist[s];
		other->hist = parent;
		tw->cur[pk++].hist = NULL;
	}
	return SF_OK;
}

/* Grow one tree into tw.t, level by level (gbt_grow.c's gbt_grow_tree). */
static sf_status
grow_tree(dist_work *w, int with_metric)
{
	train_work *tw = &w->tw;
	int			n_cur = 1,
				depth,
				k;
	sf_status	st;

	if ((st = grow_root(w, with_metric)) != SF_OK)
		return st;
	for (depth = 0;; depth++)
	{
		int			n_next;

		if (sf_interrupted(w->env))
			return sf_fail(w->env, SF_ECANCEL, "canceled");
		if (depth >= w->prm->max_depth)
		{
			for (k = 0; k < n_cur; k++)
				close_leaf(tw, &tw->cur[k], w->leaf_begin, w->leaf_end);
			break;
		}
		find_level_splits(tw, n_cur);
		n_next = apply_level_splits(tw, n_cur, w->leaf_begin, w->leaf_end);
		if (n_next == 0)
			break;
		if (depth + 1 < w->prm->max_depth)
		{
			if ((st = child_histograms(w, n_next)) != SF_OK)
				return st;
		}
		else
			for (k = 0; k < n_cur; k++)
			{
				/* children at the maximum depth are leaves from their sums alone */
				hist_put(tw, tw->cur[k].hist);
				tw->cur[k].hist = NULL;
			}
		{
			node_work  *sw = tw->cur;

			tw->cur = tw->next;
			tw->next = sw;
		}
		n_cur = n_next;
	}
	w->have_tree = 1;
	return SF_OK;
}

static void
free_dist_work(dist_work *w)
{
	sf_env	   *env = w->env;
	int			k;

	if (w->tw.cur)
		for (k = 0; k < (w->node_cap - 1) / 2; k++)
		{
			hist_put(&w->tw, w->tw.cur[k].hist);
			hist_put(&w->tw, w->tw.next[k].hist);
			if (w->r_hist)
				hist_put(&w->tw, w->r_hist[k]);
		}
	free_work(&w->tw);
	sf_free_all(env, w->leaf_begin, w->leaf_end, w->r_g, w->r_h, w->r_hist, w->r_scratch);
	sf_buf_free(&w->job);
}

/*
 * The work space: gbt_train.c's alloc_work, told of at most 2^max_depth
 * rows (its node capacities are those of the union's n rows, and the
 * coordinator keeps no rows, so the row arrays stay small).
 */
static sf_status
alloc_dist_work(dist_work *w, uint64_t n)
{
	uint64_t	full = (uint64_t) 1 << w->prm->max_depth;
	int			level_cap;
	sf_status	st;

	w->tw.env = w->env;
	w->tw.prm = w->prm;
	if ((st = alloc_work(w->env, &w->tw, w->prm, w->tw.p, (size_t) (n < full ? n : full),
						 &w->node_cap)) != SF_OK)
		return st;
	level_cap = (w->node_cap - 1) / 2;
	if (!sf_alloc_all(w->env, SF_CALLOC_N(w->leaf_begin, w->node_cap), SF_CALLOC_N(w->leaf_end, w->node_cap),
					  SF_CALLOC_N(w->r_g, level_cap), SF_CALLOC_N(w->r_h, level_cap),
					  SF_CALLOC_N(w->r_hist, level_cap), SF_MALLOC_N(w->r_scratch, 2 * (w->tw.n_slots ? w->tw.n_slots : 1))))
		return sf_fail(w->env, SF_ENOMEM, "out of memory for the training work space");
	return SF_OK;
}

/* The checks of gbt_train.c's check_data that the sketches can answer. */
static sf_status
check_totals(sf_env *env, const gbt_params *prm, const dist_totals *tot)
{
	if (tot->n >= UINT32_MAX)
		return sf_fail(env, SF_ELIMIT, "too many training rows (%llu)", (unsigned long long) tot->n);
	if ((uint32_t) prm->monotone_constraints.n > tot->p)
		return sf_fail(env, SF_EINVAL, "monotone_constraints has %d elements, features has %u",
					   prm->monotone_constraints.n, (unsigned) tot->p);
	if (prm->objective == GBT_OBJ_BINARY)
	{
		if (tot->n0 + tot->n1 != tot->n)
			return sf_fail(env, SF_EDATA, "binary:logistic needs labels 0 or 1, %llu rows have others",
						   (unsigned long long) (tot->n - tot->n0 - tot->n1));
		if (tot->n0 == 0 || tot->n1 == 0)
			return sf_fail(env, SF_EDATA, "binary:logistic needs both classes, every label is %d",
						   tot->n1 ? 1 : 0);
	}
	if (tot->weighted && !(tot->sw > 0.0))
		return sf_fail(env, SF_EDATA, "the weights sum to zero");
	return SF_OK;
}

/* The training metric from the sums of a job (gbt_train.c's train_score). */
static double
metric_score(const dist_work *w, double acc, double sw)
{
	if (!(sw > 0.0))
		return NAN;
	return w->metric == GBT_METRIC_RMSE ? sqrt(acc / sw) : acc / sw;
}

static void
report_round(const gbt_params *prm, const gbt_model *m, int r)
{
	if (prm->progress && prm->verbose &&
		((r + 1) % prm->verbose_every == 0 || r + 1 == prm->n_estimators))
	{
		gbt_progress pr = {r + 1, prm->n_estimators, gbt_metric_name(m->eval_metric),
		m->eval_train[r], NAN};

		prm->progress(prm->progress_ctx, &pr);
	}
}

sf_status
gbt_dist_train(sf_env *env, const gbt_params *prm, const uint8_t *const *sketches,
			   const size_t *sketch_lens, int n_sketches, const gbt_dist_io *io, gbt_model **out)
{
	dist_work	w;
	dist_totals tot;
	gbt_model  *m = NULL;
	sf_status	st;
	int			r;

	*out = NULL;
	memset(&w, 0, sizeof(w));
	w.env = env;
	w.prm = prm;
	w.io = io;
	w.tw.env = env;
	sf_buf_init(&w.job, env);
	if ((st = gbt_params_check(env, prm)) != SF_OK)
		return st;
	if (prm->subsample < 1.0 || prm->early_stopping_rounds > 0 || prm->eval_metric == GBT_METRIC_AUC)
		return sf_fail(env, SF_EINVAL,
					   "subsample below 1, early stopping and eval_metric auc are not supported sharded");
	if ((st = gbt_dist_merge_sketches(env, sketches, sketch_lens, n_sketches, prm->max_bin, &tot, &w.tw.bins)) != SF_OK ||
		(st = check_totals(env, prm, &tot)) != SF_OK)
		goto done;
	w.tw.p = tot.p;
	w.tw.n_slots = w.tw.bins.off[w.tw.p];
	w.metric = prm->eval_metric != GBT_METRIC_AUTO ? prm->eval_metric
		: prm->objective == GBT_OBJ_BINARY ? GBT_METRIC_LOGLOSS : GBT_METRIC_RMSE;
	w.base_margin = prm->objective == GBT_OBJ_BINARY
		? -logf(1.0f / (float) prm->base_score - 1.0f) : (float) prm->base_score;
	sf_rng_init(&w.tw.rng, (uint64_t) prm->seed, 2);
	if ((st = alloc_dist_work(&w, tot.n)) != SF_OK)
		goto done;
	if ((m = sf_calloc(env, 1, sizeof(gbt_model))) == NULL ||
		(m->trees = sf_calloc(env, prm->n_estimators, sizeof(gbt_tree))) == NULL ||
		(m->eval_train = sf_malloc(env, sizeof(double) * prm->n_estimators)) == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for the trees");
		goto done;
	}
	m->n_features = w.tw.p;
	m->objective = prm->objective;
	m->base_score = (float) prm->base_score;
	m->base_margin = w.base_margin;
	m->eval_metric = w.metric;
	m->train_rows = tot.n;
	for (r = 0; r < prm->n_estimators; r++)
	{
		if (sf_interrupted(env))
		{
			st = sf_fail(env, SF_ECANCEL, "canceled");
			goto done;
		}
		/* the root's job also brings the training metric of the trees before it */
		if ((st = grow_tree(&w, r > 0)) != SF_OK)
			goto done;
		if (r > 0)
		{
			m->eval_train[r - 1] = metric_score(&w, w.root_acc, w.root_sw);
			report_round(prm, m, r - 1);
		}
		if ((st = keep_tree(&w.tw, &m->trees[r])) != SF_OK)
			goto done;
		m->n_trees = m->n_eval = r + 1;
	}
	/* the last tree's metric: a job that wants no histogram */
	if ((st = tree_exchange(&w, 1, 0)) != SF_OK)
		goto done;
	m->eval_train[m->n_trees - 1] = metric_score(&w, w.r_acc, w.r_sw);
	report_round(prm, m, m->n_trees - 1);
	m->best_iteration = m->n_trees - 1;
	if ((st = gbt_model_pack(env, m)) != SF_OK)
		goto done;
	*out = m;
	m = NULL;
done:
	free_dist_work(&w);
	gbt_model_free(env, m);
	return st;
}
