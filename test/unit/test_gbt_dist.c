/*
 * test_gbt_dist.c
 *	  Unit tests of sharded tree training (gbt_dist.h) against its closed
 *	  truth, gbt_train over the union of the rows: the rows are dealt to
 *	  in-process "shards" whose sketches and histograms go through the real
 *	  byte messages, and the model must have gbt_train's bin edges (bit for
 *	  bit), the same trees (split features, conditions and directions equal;
 *	  leaf values within 1e-6) and scores within 1e-6 on every row, for
 *	  binary and regression objectives, weights, column sampling, monotone
 *	  constraints, few distinct values, and an empty shard.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sf_test.h"
#include "scfrisk/gbt.h"
#include "scfrisk/gbt_dist.h"
#include "scfrisk/sf_rng.h"
#include "../../src/trees/gbt_dist_int.h"

#define MAX_SHARDS 4

/* The shards of one test: their rows (copies) and last replies. */
typedef struct shards
{
	int			ns;
	uint32_t	p;
	size_t		n[MAX_SHARDS];
	double	   *x[MAX_SHARDS],
			   *y[MAX_SHARDS],
			   *w[MAX_SHARDS];
	sf_buf		reply[MAX_SHARDS];
	gbt_dist_shard *sh[MAX_SHARDS];	/* each shard's state of the training */
	const uint8_t *bufs[MAX_SHARDS];
	size_t		lens[MAX_SHARDS];
	int			jobs;
	sf_env		env;
} shards;

/* Deal row i to shard (i * 7 + i / 5) % ns: interleaved, uneven. */
static void
deal(shards *s, int ns, const double *x, const double *y, const double *w, size_t n, uint32_t p,
	 int leave_empty)
{
	size_t		i;
	int			k;

	memset(s, 0, sizeof(*s));
	sf_env_init_malloc(&s->env);
	s->ns = ns;
	s->p = p;
	for (k = 0; k < ns; k++)
	{
		s->x[k] = malloc(sizeof(double) * n * p);
		s->y[k] = malloc(sizeof(double) * n);
		s->w[k] = w ? malloc(sizeof(double) * n) : NULL;
		sf_buf_init(&s->reply[k], &s->env);
	}
	for (i = 0; i < n; i++)
	{
		int			d = (int) ((i * 7 + i / 5) % (size_t) (leave_empty ? ns - 1 : ns));
		size_t		r = s->n[d]++;

		memcpy(s->x[d] + r * p, x + i * p, sizeof(double) * p);
		s->y[d][r] = y[i];
		if (w)
			s->w[d][r] = w[i];
	}
}

static void
undeal(shards *s)
{
	int			k;

	for (k = 0; k < s->ns; k++)
	{
		free(s->x[k]);
		free(s->y[k]);
		free(s->w[k]);
		sf_buf_free(&s->reply[k]);
	}
}

/* The transport: every shard answers the job in order; empty shards send nothing. */
static sf_status
exchange(void *ctx, const uint8_t *job, size_t len, int *n_rep, const uint8_t *const **rep,
		 const size_t **lens)
{
	shards	   *s = ctx;
	int			k,
				m = 0;

	s->jobs++;
	for (k = 0; k < s->ns; k++)
	{
		sf_status	st;

		if (s->n[k] == 0)
			continue;
		s->reply[k].len = 0;
		st = gbt_dist_shard_step(&s->env, s->sh[k], job, len, &s->reply[k]);
		if (st != SF_OK)
			return sf_fail(&s->env, st, "%s", s->env.msg ? s->env.msg : "shard failed");
		s->bufs[m] = s->reply[k].data;
		s->lens[m++] = s->reply[k].len;
	}
	*n_rep = m;
	*rep = s->bufs;
	*lens = s->lens;
	return SF_OK;
}

/* Sketch every non-empty shard and train; the sketches are freed here. */
static sf_status
train_sharded(shards *s, const gbt_params *prm, sf_env *env, gbt_model **m, gbt_bins *edges)
{
	sf_buf		sk[MAX_SHARDS];
	const uint8_t *bufs[MAX_SHARDS];
	size_t		lens[MAX_SHARDS];
	gbt_dist_io io = {exchange, s};
	int			k,
				m_sk = 0;
	sf_status	st = SF_OK;

	for (k = 0; k < s->ns; k++)
	{
		sf_buf_init(&sk[k], env);
		if (s->n[k] == 0)
			continue;
		if (st == SF_OK)
			st = gbt_dist_sketch(env, s->x[k], s->y[k], s->w[k], s->n[k], s->p, &sk[k]);
		bufs[m_sk] = sk[k].data;
		lens[m_sk++] = sk[k].len;
	}
	if (st == SF_OK && edges)
	{
		dist_totals tot;

		st = gbt_dist_merge_sketches(env, bufs, lens, m_sk, prm->max_bin, &tot, edges);
	}
	for (k = 0; k < s->ns; k++)
		if (st == SF_OK && s->n[k] > 0)
			st = gbt_dist_shard_new(&s->env, s->x[k], s->y[k], s->w[k], s->n[k], s->p, &s->sh[k]);
	if (st == SF_OK)
		st = gbt_dist_train(env, prm, bufs, lens, m_sk, &io, m);
	for (k = 0; k < s->ns; k++)
	{
		sf_buf_free(&sk[k]);
		gbt_dist_shard_free(&s->env, s->sh[k]);
		s->sh[k] = NULL;
	}
	return st;
}

/* Data: x0 * x1 and x2 > 0 drive y; x0 10% missing; x3 on a coarse grid (few distinct values). */
static void
make_data(size_t n, uint32_t p, uint64_t seed, int regression, double *x, double *y, double *w)
{
	sf_rng		rng;
	size_t		i;
	uint32_t	j;

	sf_rng_init(&rng, seed, 0);
	for (i = 0; i < n; i++)
	{
		double		z;

		for (j = 0; j < p; j++)
			x[i * p + j] = sf_rng_normal(&rng);
		x[i * p + 3] = floor(x[i * p + 3] * 4.0) / 4.0;
		z = 1.5 * x[i * p] * x[i * p + 1] + (x[i * p + 2] > 0 ? 1.0 : -1.0) + 0.5 * x[i * p + 3] +
			0.5 * sf_rng_normal(&rng);
		y[i] = regression ? z : (z > 0 ? 1.0 : 0.0);
		if (w)
			w[i] = 0.25 + 2.0 * sf_rng_uniform(&rng);
		if (sf_rng_uniform(&rng) < 0.1)
			x[i * p] = NAN;
	}
}

/* The sharded model against gbt_train's on the union: edges, trees, scores. */
static void
compare(const char *what, const double *x, const double *y, const double *w, size_t n, uint32_t p,
		const gbt_params *prm, int ns, int leave_empty)
{
	sf_env		env;
	gbt_model  *a = NULL,
			   *b = NULL;
	gbt_bins	ref,
				got;
	shards		s;
	sf_status	st;
	int			same_edges = 1,
				same_shape = 1,
				t;
	double		leaf_diff = 0.0,
				score_diff = 0.0,
				eval_diff = 0.0;
	uint32_t	j;
	size_t		i;

	sf_env_init_malloc(&env);
	st = gbt_train(&env, x, y, w, n, p, prm, &a);
	SF_OK(st == SF_OK, "%s: gbt_train on the union (%s)", what, env.msg ? env.msg : "ok");
	st = gbt_bins_build(&env, x, w, p, NULL, n, prm->max_bin, &ref);
	SF_OK(st == SF_OK, "%s: reference bins", what);
	deal(&s, ns, x, y, w, n, p, leave_empty);
	st = train_sharded(&s, prm, &env, &b, &got);
	SF_OK(st == SF_OK && b != NULL, "%s: sharded training over %d shards (%s)", what, ns,
		  st == SF_OK ? "ok" : s.env.msg ? s.env.msg : env.msg ? env.msg : "?");
	if (st != SF_OK || a == NULL || b == NULL)
		goto done;
	for (j = 0; j < p; j++)
		same_edges &= ref.n_bins[j] == got.n_bins[j] && ref.has_missing[j] == got.has_missing[j] &&
			ref.min_val[j] == got.min_val[j] &&
			memcmp(ref.cuts + ref.off[j], got.cuts + got.off[j], sizeof(float) * ref.n_bins[j]) == 0;
	SF_OK(same_edges, "%s: bin edges equal gbt_train's bit for bit", what);
	same_shape = a->n_trees == b->n_trees;
	for (t = 0; same_shape && t < a->n_trees; t++)
	{
		const gbt_tree *ta = &a->trees[t],
				   *tb = &b->trees[t];
		int32_t		k;

		same_shape &= ta->n_nodes == tb->n_nodes;
		for (k = 0; same_shape && k < ta->n_nodes; k++)
		{
			same_shape &= ta->left[k] == tb->left[k] && ta->right[k] == tb->right[k];
			if (ta->left[k] >= 0)
				same_shape &= ta->split_index[k] == tb->split_index[k] &&
					ta->split_cond[k] == tb->split_cond[k] &&
					ta->default_left[k] == tb->default_left[k];
			else if (fabs((double) ta->split_cond[k] - tb->split_cond[k]) > leaf_diff)
				leaf_diff = fabs((double) ta->split_cond[k] - tb->split_cond[k]);
		}
	}
	SF_OK(same_shape, "%s: %d trees, same splits (feature, condition, missing direction)", what,
		  a->n_trees);
	SF_OK(leaf_diff <= 1e-6, "%s: leaf values within 1e-6 (largest difference %.3g)", what, leaf_diff);
	for (i = 0; i < n; i++)
	{
		double		d = fabs(gbt_predict(a, x + i * p) - gbt_predict(b, x + i * p));

		if (d > score_diff)
			score_diff = d;
	}
	SF_OK(score_diff <= 1e-6, "%s: scores within 1e-6 on all %zu rows (largest %.3g)", what, n, score_diff);
	for (t = 0; t < a->n_eval && t < b->n_eval; t++)
		if (fabs(a->eval_train[t] - b->eval_train[t]) > eval_diff)
			eval_diff = fabs(a->eval_train[t] - b->eval_train[t]);
	SF_OK(a->n_eval == b->n_eval && eval_diff <= 1e-9,
		  "%s: training metric per round within 1e-9 (largest %.3g)", what, eval_diff);
	SF_OK(s.jobs >= prm->n_estimators + 1, "%s: %d jobs for %d trees of depth <= %d", what, s.jobs,
		  prm->n_estimators, prm->max_depth);
	{
		/* a second training on new shard states: the same model, bit for bit */
		gbt_model  *c = NULL;
		sf_buf		bb,
					bc;

		st = train_sharded(&s, prm, &env, &c, NULL);
		sf_buf_init(&bb, &env);
		sf_buf_init(&bc, &env);
		gbt_encode_body(b, &bb, 16);
		if (c)
			gbt_encode_body(c, &bc, 16);
		SF_OK(st == SF_OK && bb.len == bc.len && memcmp(bb.data, bc.data, bb.len) == 0,
			  "%s: a second sharded training gives the same bytes", what);
		sf_buf_free(&bb);
		sf_buf_free(&bc);
		gbt_model_free(&env, c);
	}
done:
	gbt_bins_free(&env, &got);
	gbt_bins_free(&env, &ref);
	gbt_model_free(&env, a);
	gbt_model_free(&env, b);
	undeal(&s);
}

SF_TEST(test_binary)
{
	size_t		n = 3000;
	uint32_t	p = 5;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n);
	gbt_params	prm = gbt_params_default();

	make_data(n, p, 11, 0, x, y, NULL);
	prm.n_estimators = 15;
	prm.max_depth = 4;
	prm.eta = 0.3;
	compare("binary, 3 shards", x, y, NULL, n, p, &prm, 3, 0);
	prm.max_bin = 16;			/* quantiles on every feature, the coarse one too */
	prm.colsample_bytree = 0.8;
	prm.colsample_bylevel = 0.75;
	prm.seed = 5;
	compare("binary, max_bin 16, column sampling, an empty shard", x, y, NULL, n, p, &prm, 4, 1);
	free(x);
	free(y);
}

SF_TEST(test_regression_weighted_monotone)
{
	size_t		n = 2500;
	uint32_t	p = 4;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n),
			   *w = malloc(sizeof(double) * n);
	gbt_params	prm = gbt_params_default();
	int			mono[4] = {0, 0, 1, 1};

	make_data(n, p, 12, 1, x, y, w);
	prm.objective = GBT_OBJ_REGRESSION;
	prm.base_score = 0.5;
	prm.n_estimators = 12;
	prm.max_depth = 3;
	prm.lambda = 2.0;
	prm.alpha = 0.1;
	compare("regression, weighted, 2 shards", x, y, w, n, p, &prm, 2, 0);
	prm.monotone_constraints.v = mono;
	prm.monotone_constraints.n = 4;
	prm.min_child_weight = 3.0;
	compare("regression, weighted, monotone, 3 shards", x, y, w, n, p, &prm, 3, 0);
	free(x);
	free(y);
	free(w);
}

SF_TEST(test_refusals)
{
	size_t		n = 200,
				i;
	uint32_t	p = 5;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n);
	gbt_params	prm = gbt_params_default();
	sf_env		env;
	gbt_model  *m = NULL;
	shards		s;
	sf_status	st;

	sf_env_init_malloc(&env);
	make_data(n, p, 13, 0, x, y, NULL);
	prm.n_estimators = 3;
	deal(&s, 3, x, y, NULL, n, p, 0);
	prm.subsample = 0.5;
	st = train_sharded(&s, &prm, &env, &m, NULL);
	SF_OK(st == SF_EINVAL && m == NULL, "subsample below 1 is refused (%s)", env.msg ? env.msg : "");
	prm = gbt_params_default();
	prm.n_estimators = 3;
	prm.early_stopping_rounds = 2;
	st = train_sharded(&s, &prm, &env, &m, NULL);
	SF_OK(st == SF_EINVAL && m == NULL, "early stopping is refused (%s)", env.msg ? env.msg : "");
	prm.early_stopping_rounds = 0;
	undeal(&s);
	for (i = 0; i < n; i++)
		y[i] = 1.0;
	deal(&s, 3, x, y, NULL, n, p, 0);
	st = train_sharded(&s, &prm, &env, &m, NULL);
	SF_OK(st == SF_EDATA && m == NULL, "one class over all shards is refused (%s)", env.msg ? env.msg : "");
	undeal(&s);
	/* a job for another width */
	{
		sf_buf		sk,
					out;
		double		xr[2] = {1, 2},
					yr[1] = {1};
		const uint8_t *b1[2];
		size_t		l1[2];
		gbt_dist_io io = {exchange, &s};

		sf_buf_init(&sk, &env);
		sf_buf_init(&out, &env);
		deal(&s, 1, x, y, NULL, 10, p, 0);
		st = gbt_dist_sketch(&env, xr, yr, NULL, 1, 2, &sk);
		gbt_dist_sketch(&env, x, y, NULL, 10, p, &out);
		b1[0] = out.data;
		l1[0] = out.len;
		b1[1] = sk.data;
		l1[1] = sk.len;
		st = gbt_dist_train(&env, &prm, b1, l1, 2, &io, &m);
		SF_OK(st == SF_EDATA && m == NULL, "sketches of two widths are refused (%s)",
			  env.msg ? env.msg : "");
		{
			gbt_dist_shard *sh = NULL;
			uint8_t		late[9] = {0x47, 0x44, 0x4A, 0x31, 5, 0, 0, 0, JOB_TREE};

			gbt_dist_shard_new(&env, xr, yr, NULL, 1, 2, &sh);
			st = gbt_dist_shard_step(&env, sh, (const uint8_t *) "garbage!", 8, &out);
			SF_OK(st == SF_ECORRUPT, "a shard refuses bytes that are not a job (%s)", env.msg ? env.msg : "");
			st = gbt_dist_shard_step(&env, sh, late, sizeof(late), &out);
			SF_OK(st == SF_ECORRUPT && strstr(env.msg, "lost its state"),
				  "a shard refuses a job out of sequence (%s)", env.msg ? env.msg : "");
			gbt_dist_shard_free(&env, sh);
		}
		xr[1] = INFINITY;
		sk.len = 0;
		st = gbt_dist_sketch(&env, xr, yr, NULL, 1, 2, &sk);
		SF_OK(st == SF_EDATA, "a shard refuses an infinite feature (%s)", env.msg ? env.msg : "");
		sf_buf_free(&sk);
		sf_buf_free(&out);
		undeal(&s);
	}
	free(x);
	free(y);
}

int
main(void)
{
	SF_RUN(test_binary);
	SF_RUN(test_regression_weighted_monotone);
	SF_RUN(test_refusals);
	return sf_test_done();
}
