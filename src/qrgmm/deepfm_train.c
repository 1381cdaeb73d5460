/*
 * deepfm_train.c
 *	  One training step of the quantile DeepFM network over a mini-batch,
 *	  split into shards that worker threads may run in parallel, with
 *	  results that do not depend on the number of threads.
 *
 * A batch of bm rows is cut into a number of shards that depends only on
 * bm and the model's size (never on the thread count): at most
 * DEEPFM_MAX_SHARDS shards of about DEEPFM_SHARD_ROWS rows.  Each shard
 * runs the forward and backward pass on its rows with its own scratch,
 * its own random stream for unknown-id replacement and dropout (seeded from
 * the seed, the step and the shard number) and its own gradient, normalised by the whole batch's rows; the
 * weight decay enters through shard 0 only.  The gradients are then summed
 * in shard order into shard 0's, so the sum, and hence the model bytes, are
 * the same whether one thread runs every shard or several threads share
 * them.  BLAS runs single-threaded meanwhile (OpenBLAS's own threading
 * changes a product's rounding with the thread count).
 *
 * Worker threads (the pool of src/core/pool.c) are started per step and
 * joined before the step returns, with every signal blocked; they only run
 * numeric code on memory allocated beforehand by the calling thread
 * (DESIGN.md's threading rule).
 */
#include <string.h>

#include "scfrisk/deepfm.h"
#include "scfrisk/sf_blas.h"
#include "scfrisk/sf_pool.h"

/* What one shard reads and writes. */
typedef struct shard_job
{
	const deepfm_model *model;
	deepfm_work *w;				/* this shard's scratch and gradients */
	float	   *yb;				/* this shard's responses */
	const double *X;			/* (n, F) training rows */
	const float *ys;			/* (n) standardised responses */
	const uint32_t *idx;		/* rows of this shard */
	int			rows;			/* rows in this shard */
	int			norm_rows;		/* rows of the whole batch */
	double		dropout;
	double		unknown_share;	/* rate of ids replaced by the unknown bucket */
	double		weight_decay;	/* the batch's for shard 0, else 0 */
	sf_rng		rng;			/* this shard's stream (unknown ids, dropout) */
	double		loss;			/* out: summed loss of the shard's rows */
} shard_job;

static void
run_shard(shard_job *j)
{
	int			r;

	if (j->rows == 0)
		return;
	for (r = 0; r < j->rows; r++)
		j->yb[r] = j->ys[j->idx[r]];
	deepfm_batch_inputs(j->model, j->w, j->X, j->idx, j->rows);
	if (j->unknown_share > 0.0)
	{
		/* train the unknown buckets: what an id unseen in training gets */
		const deepfm_model *m = j->model;
		uint32_t	F = deepfm_fields(m);
		uint32_t	f;

		for (r = 0; r < j->rows; r++)
			for (f = m->n_numeric; f < F; f++)
				if (sf_rng_uniform(&j->rng) < j->unknown_share)
					j->w->rows[(size_t) r * F + f] = m->row_off[f];
	}
	deepfm_forward(j->model, j->w, j->rows, j->dropout, j->dropout > 0.0 ? &j->rng : NULL);
	j->loss = deepfm_batch_loss(j->model, j->w, j->yb, j->rows);
	deepfm_backward(j->model, j->w, j->yb, j->rows, j->norm_rows, j->weight_decay);
}

/* A shard as a task of the pool (short: one shard of one batch). */
static sf_status
shard_task(void *ctx, int task, int worker, sf_env *env)
{
	run_shard(&((shard_job *) ctx)[task]);
	return SF_OK;
}

/* Shards of a batch of bm rows for a trainer (depends on bm and the model only). */
static int
shard_count(const deepfm_trainer *t, int bm)
{
	int			n = (bm + DEEPFM_SHARD_ROWS - 1) / DEEPFM_SHARD_ROWS;

	if (n > t->max_shards)
		n = t->max_shards;
	return n < 1 ? 1 : n;
}

sf_status
deepfm_trainer_new(sf_env *env, const deepfm_model *model, int batch_size, int threads,
				   deepfm_trainer *t)
{
	size_t		total = model->n_params + model->tower.n_params;
	int			s,
				rows;
	sf_status	st;

	memset(t, 0, sizeof(*t));
	/* big embedding tables: fewer gradient copies */
	t->max_shards = total > ((size_t) 1 << 22) ? 2 : DEEPFM_MAX_SHARDS;
	t->threads = threads < 1 ? 1 : threads;
	t->batch_size = batch_size;
	/* the most rows a shard of any batch of up to batch_size rows gets */
	rows = (batch_size + t->max_shards - 1) / t->max_shards;
	if (rows < DEEPFM_SHARD_ROWS)
		rows = DEEPFM_SHARD_ROWS;
	if (rows > batch_size)
		rows = batch_size;
	t->shard_rows = rows;
	for (s = 0; s < t->max_shards; s++)
	{
		st = deepfm_work_new(env, model, rows, &t->w[s]);
		if (st != SF_OK)
		{
			deepfm_trainer_free(env, t);
			return st;
		}
		t->yb[s] = sf_malloc(env, (size_t) rows * sizeof(float));
		if (t->yb[s] == NULL)
		{
			deepfm_trainer_free(env, t);
			return sf_fail(env, SF_ENOMEM, "out of memory for training batches");
		}
	}
	return SF_OK;
}

void
deepfm_trainer_free(sf_env *env, deepfm_trainer *t)
{
	int			s;

	for (s = 0; s < DEEPFM_MAX_SHARDS; s++)
	{
		deepfm_work_free(env, &t->w[s]);
		sf_free(env, t->yb[s]);
		t->yb[s] = NULL;
	}
}

double
deepfm_trainer_step(const deepfm_trainer *tc, const deepfm_model *model, const double *X,
					const float *ys, const uint32_t *idx, int bm, double dropout,
					double unknown_share, double weight_decay, uint64_t seed, uint64_t step)
{
	deepfm_trainer *t = (deepfm_trainer *) tc;
	shard_job	jobs[DEEPFM_MAX_SHARDS];
	int			n = shard_count(t, bm);
	int			per = (bm + n - 1) / n;
	int			T = t->threads < n ? t->threads : n;
	sf_env		penv;			/* only the thread count: the region neither allocates nor fails */
	double		loss = 0.0;
	int			s;

	for (s = 0; s < n; s++)
	{
		int			lo = s * per;
		int			hi = lo + per < bm ? lo + per : bm;

		jobs[s].model = model;
		jobs[s].w = &t->w[s];
		jobs[s].yb = t->yb[s];
		jobs[s].X = X;
		jobs[s].ys = ys;
		jobs[s].idx = idx + lo;
		jobs[s].rows = hi > lo ? hi - lo : 0;
		jobs[s].norm_rows = bm;
		jobs[s].dropout = dropout;
		jobs[s].unknown_share = unknown_share;
		jobs[s].weight_decay = s == 0 ? weight_decay : 0.0;
		jobs[s].loss = 0.0;
		sf_rng_init(&jobs[s].rng, seed, ((uint64_t) 4 << 48) + step * DEEPFM_MAX_SHARDS + (uint64_t) s);
	}

	/* each shard writes only its own job and scratch: any schedule gives the same floats */
	memset(&penv, 0, sizeof(penv));
	penv.threads = T;
	(void) sf_pool_run(&penv, SF_POOL_SHORT, n, shard_task, jobs, NULL);

	/* sum in shard order: the same floats whatever ran where */
	for (s = 0; s < n; s++)
	{
		loss += jobs[s].loss;
		if (s == 0 || jobs[s].rows == 0)
			continue;
		{
			float	   *g0 = t->w[0].grad,
					   *gs = t->w[s].grad;
			float	   *h0 = t->w[0].tw.grad,
					   *hs = t->w[s].tw.grad;
			size_t		k;

			for (k = 0; k < model->n_params; k++)
				g0[k] += gs[k];
			for (k = 0; k < model->tower.n_params; k++)
				h0[k] += hs[k];
		}
	}
	return loss;
}
