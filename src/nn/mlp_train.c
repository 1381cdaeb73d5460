/*
 * mlp_train.c
 *	  Training of the multi-layer perceptron (mlp.h).
 *
 * mlp_fit: column statistics over the non-missing values (population
 * standard deviation, as scikit-learn's StandardScaler), one float32 copy of
 * the standardised inputs with missing values at 0 (the mean) and optional
 * missing indicators, a seeded validation split when early stopping is on,
 * per-row weights from class_weight and scale_pos_weight, then epochs of
 * shuffled mini-batches through nn_forward, the backward pass and Adam.  The
 * batch buffers are allocated once; no allocation happens per row or per
 * batch.  With early stopping the weights of the epoch with the lowest
 * validation loss are kept.
 *
 * With the linear skip the output is deep(x) + skip(x) before the sigmoid:
 * the deep net's output layer is the identity, the skip a one-layer identity
 * net, both get the same output delta.  The skip starts at logreg_train's
 * default model of the training share (logreg.h, C = MLP_SKIP_C, raw scale)
 * and the deep output weights at zero, so epoch 0 is logistic regression.
 * Early stopping scores that start too, and keeps it unless the best epoch
 * is better by more than a standard error (clearly_better).  The skip's L2
 * rate is logistic regression's own penalty per row on the raw scale, so
 * the start is a stationary point of the linear part.
 *
 * With early stopping and refit (the defaults) a second pass trains on every
 * row for the number of epochs the validation pass chose.
 *
 * RNG streams from the seed: 1 validation split, 2 initialisation, 3 epoch
 * shuffles, 4 dropout.  Without the skip, the arithmetic is that of 0.1.0,
 * so the same params give the same bytes as before (the hybrid's paper mode
 * relies on it).
 */
#include <math.h>
#include <string.h>

#include "scfrisk/logreg.h"
#include "mlp_int.h"

/* Scratch of one training run. */
typedef struct mlp_trainer
{
	nn_work		work;			/* deep net */
	nn_work		swork;			/* skip net (has_skip) */
	nn_adam		opt;
	nn_adam		sopt;
	nn_loss		loss;
	int			bs;				/* rows per batch */
	float	   *xb;				/* (bs, n_inputs) batch rows */
	float	   *yb;				/* (bs) labels */
	float	   *wb;				/* (bs) row weights */
	float	   *pb;				/* (bs) model outputs (probabilities for binary) */
	/* early stopping with the skip: the start against the best epoch */
	double	   *loss_start;		/* (n_val) per-row validation loss of the start */
	double	   *loss_best;		/* (n_val) the same of the best epoch so far */
	float	   *start;			/* parameters of the start (both nets) */
	float	   *skip_decay;		/* (n_inputs) L2 rate of each skip weight */
} mlp_trainer;

/* Model outputs of the bm rows in t->xb into t->pb. */
static void
batch_forward(mlp_trainer *t, const mlp_model *m, int bm, double dropout, sf_rng *rng)
{
	const float *deep;
	const float *lin;
	int			i;

	nn_forward(&m->net, &t->work, t->xb, bm, dropout, rng);
	deep = t->work.act[m->net.n_layers - 1];
	if (!m->has_skip)
	{
		memcpy(t->pb, deep, sizeof(float) * (size_t) bm);
		return;
	}
	nn_forward(&m->skip, &t->swork, t->xb, bm, 0.0, NULL);
	lin = t->swork.act[0];
	for (i = 0; i < bm; i++)
	{
		double		z = (double) deep[i] + (double) lin[i];

		t->pb[i] = (float) (m->objective == MLP_OBJ_BINARY ? 1.0 / (1.0 + exp(-z)) : z);
	}
}

/* One Adam step from the batch of the last batch_forward. */
static void
batch_step(mlp_trainer *t, mlp_model *m, int bm, double weight_decay)
{
	float		inv_m = 1.0f / (float) bm;
	float	   *dd,
			   *ds;
	int			i;

	if (!m->has_skip)
	{
		nn_backward(&m->net, &t->work, &t->loss, t->xb, t->yb, t->wb, bm, weight_decay);
		nn_adam_step(&t->opt, m->net.params, t->work.grad);
		return;
	}
	/* log-loss through the sigmoid and squared error share d/dz = f - y */
	dd = t->work.delta[m->net.n_layers - 1];
	ds = t->swork.delta[0];
	for (i = 0; i < bm; i++)
		dd[i] = ds[i] = (t->pb[i] - t->yb[i]) * t->wb[i] * inv_m;
	nn_backprop(&m->net, &t->work, t->xb, bm, weight_decay, NULL);
	nn_backprop(&m->skip, &t->swork, t->xb, bm, 0.0, NULL);
	for (i = 0; i < m->n_inputs; i++)
		t->swork.grad[i] += t->skip_decay[i] * m->skip.layers[0].w[i];
	nn_adam_step(&t->opt, m->net.params, t->work.grad);
	nn_adam_step(&t->sopt, m->skip.params, t->swork.grad);
}

/* Copy rows idx[0..bm) of the float matrix into the batch buffers. */
static double
batch_gather(mlp_trainer *t, int ni, const float *xs, const float *ys, const float *sw,
			 const uint32_t *idx, int bm)
{
	double		wsum = 0.0;
	int			i;

	for (i = 0; i < bm; i++)
	{
		uint32_t	r = idx[i];

		memcpy(t->xb + (size_t) i * ni, xs + (size_t) r * ni, sizeof(float) * ni);
		t->yb[i] = ys[r];
		t->wb[i] = sw[r];
		wsum += sw[r];
	}
	return wsum;
}

/*
 * Mean weighted loss over rows idx[0..n) of the float matrix, in batches;
 * with per_row non-NULL also each row's weighted loss.
 */
static double
eval_loss(mlp_trainer *t, const mlp_model *m, const float *xs, const float *ys,
		  const float *sw, const uint32_t *idx, size_t n, double *per_row)
{
	double		total = 0.0,
				wsum = 0.0;
	size_t		s;
	int			i;

	for (s = 0; s < n; s += (size_t) t->bs)
	{
		int			bm = (int) ((n - s) < (size_t) t->bs ? (n - s) : (size_t) t->bs);

		wsum += batch_gather(t, m->n_inputs, xs, ys, sw, idx + s, bm);
		batch_forward(t, m, bm, 0.0, NULL);
		total += nn_loss_value(&t->loss, t->pb, t->yb, t->wb, bm);
		if (per_row)
			for (i = 0; i < bm; i++)
				per_row[s + i] = nn_loss_value(&t->loss, t->pb + i, t->yb + i, t->wb + i, 1);
	}
	return wsum > 0 ? total / wsum : 0.0;
}

/*
 * One-standard-error rule (Breiman et al.'s, for the start against the
 * best epoch): the trained network replaces the logistic regression start
 * only when its validation loss is lower by more than one standard error
 * of the paired per-row differences.  On a few hundred validation rows the
 * lowest of many epochs' losses is lower by chance; this keeps the simpler
 * model unless the gain is clear.
 */
static int
clearly_better(const double *start, const double *best, size_t n)
{
	double		mean = 0.0,
				ss = 0.0;
	size_t		i;

	if (n < 2)
		return 0;
	for (i = 0; i < n; i++)
		mean += start[i] - best[i];
	mean /= (double) n;
	for (i = 0; i < n; i++)
	{
		double		e = start[i] - best[i] - mean;

		ss += e * e;
	}
	return mean > sqrt(ss / ((double) n - 1.0) / (double) n);
}

static sf_status
check_labels(sf_env *env, const mlp_params *p, const double *y, size_t n)
{
	size_t		pos = 0,
				i;

	for (i = 0; i < n; i++)
	{
		if (!isfinite(y[i]))
			return sf_fail(env, SF_EDATA, "label of row %zu is not finite", i + 1);
		if (p->objective == MLP_OBJ_BINARY)
		{
			if (y[i] != 0.0 && y[i] != 1.0)
				return sf_fail(env, SF_EDATA, "label of row %zu is %g, binary:logistic needs 0 or 1",
							   i + 1, y[i]);
			pos += y[i] == 1.0;
		}
	}
	if (p->objective == MLP_OBJ_BINARY && (pos == 0 || pos == n))
		return sf_fail(env, SF_EDATA, "training data has only one class (%s)",
					   pos == 0 ? "all labels 0" : "all labels 1");
	return SF_OK;
}

/* Means, standard deviations and indicator flags of the raw columns. */
static sf_status
input_stats(sf_env *env, const mlp_params *p, const mlp_rows *x, size_t n, int d, mlp_model *m)
{
	sf_status	st;
	size_t		i;
	int			j,
				ni = d;

	if ((st = mlp_alloc_inputs(env, m, (uint32_t) d)) != SF_OK)
		return st;
	for (j = 0; j < d; j++)
	{
		double		s = 0.0,
					ss = 0.0,
					mu;
		size_t		cnt = 0;

		for (i = 0; i < n; i++)
		{
			double		v = mlp_rows_get(x, i * (size_t) d + j);

			if (isnan(v))
				continue;
			if (!isfinite(v))
				return sf_fail(env, SF_EDATA, "feature %d of row %zu is infinite", j + 1, i + 1);
			s += v;
			cnt++;
		}
		mu = cnt ? s / cnt : 0.0;
		for (i = 0; i < n; i++)
		{
			double		v = mlp_rows_get(x, i * (size_t) d + j);

			if (!isnan(v))
				ss += (v - mu) * (v - mu);
		}
		m->mean[j] = mu;
		m->scale[j] = cnt && ss > 0 ? sqrt(ss / cnt) : 1.0;
		if (!(m->scale[j] > 1e-300) || !isfinite(m->scale[j]))
			m->scale[j] = 1.0;
		if (p->missing_indicator && cnt < n)
		{
			m->indicator[j] = 1;
			ni++;
		}
	}
	if (ni > NN_MAX_UNITS)
		return sf_fail(env, SF_ELIMIT, "%d network inputs exceed the cap of %d", ni, NN_MAX_UNITS);
	m->n_inputs = ni;
	return SF_OK;
}

/* The deep net (and the skip net) with initial weights from rng. */
static sf_status
build_nets(sf_env *env, const mlp_params *p, mlp_model *m, sf_rng *rng)
{
	int			widths[NN_MAX_LAYERS + 1];
	nn_activation acts[NN_MAX_LAYERS];
	nn_activation out_act = NN_ACT_IDENTITY;
	sf_status	st;
	int			l;

	if (p->objective == MLP_OBJ_BINARY && !p->linear_skip)
		out_act = NN_ACT_SIGMOID;
	widths[0] = m->n_inputs;
	for (l = 0; l < p->hidden.n; l++)
	{
		widths[l + 1] = p->hidden.v[l];
		acts[l] = (nn_activation) p->activation;
	}
	widths[p->hidden.n + 1] = 1;
	acts[p->hidden.n] = out_act;
	if ((st = nn_net_new(env, &m->net, p->hidden.n + 1, widths, acts)) != SF_OK)
		return st;
	nn_net_init_weights(&m->net, rng);
	if (!p->linear_skip)
		return SF_OK;
	{
		const nn_dense *o = &m->net.layers[p->hidden.n];
		int			sw[2] = {m->n_inputs, 1};
		nn_activation sa = NN_ACT_IDENTITY;

		/* the deep part starts silent: the model starts at its linear part */
		memset(o->w, 0, sizeof(float) * (size_t) o->n_in * o->n_out);
		m->has_skip = 1;
		return nn_net_new(env, &m->skip, 1, sw, &sa);
	}
}

/* Scale of network input j: the feature's standard deviation, 1 for an indicator. */
static double
input_scale(const mlp_model *m, int j)
{
	return j < (int) m->n_features ? m->scale[j] : 1.0;
}

/*
 * Start the skip at the logistic regression of the training rows
 * rows[0..n_tr) (binary), or at the training mean (regression).  The
 * regression is logreg_train's on the raw (centred) scale, C = MLP_SKIP_C:
 * the baseline the network must not lose to, whose penalty shrinks a rare
 * 0/1 column more than a standardised fit would.  When the
 * regression cannot be fitted (too wide for its Newton system, one class in
 * the training share) the skip starts at the prevalence's log-odds.
 */
static sf_status
skip_start(sf_env *env, mlp_model *m, const float *xs, const float *ys,
		   const uint32_t *rows, size_t n_tr)
{
	int			ni = m->n_inputs;
	double		ymean = 0.0;
	size_t		i;
	int			j;

	for (i = 0; i < n_tr; i++)
		ymean += ys[rows[i]];
	ymean /= (double) n_tr;
	if (m->objective != MLP_OBJ_BINARY)
	{
		m->skip.layers[0].b[0] = (float) ymean;
		return SF_OK;
	}
	if (ymean > 0.0 && ymean < 1.0)
		m->skip.layers[0].b[0] = (float) log(ymean / (1.0 - ymean));
	if (ni <= LOGREG_MAX_FEATURES && ymean > 0.0 && ymean < 1.0)
	{
		logreg_params lp;
		logreg_model lm;
		sf_status	st;
		double	   *xd = sf_malloc(env, sizeof(double) * n_tr * (size_t) ni);
		double	   *yd = sf_malloc(env, sizeof(double) * n_tr);

		if (xd == NULL || yd == NULL)
		{
			sf_free(env, xd);
			sf_free(env, yd);
			return sf_fail(env, SF_ENOMEM, "out of memory for the linear start of %zu rows", n_tr);
		}
		for (i = 0; i < n_tr; i++)
		{
			for (j = 0; j < ni; j++)
				xd[i * ni + j] = xs[(size_t) rows[i] * ni + j] * input_scale(m, j);
			yd[i] = ys[rows[i]];
		}
		sf_params_defaults(&logreg_params_table, &lp);
		lp.C = MLP_SKIP_C;
		st = logreg_fit(env, &lp, xd, yd, n_tr, ni, &lm);
		sf_free(env, xd);
		sf_free(env, yd);
		if (st == SF_ECANCEL || st == SF_ENOMEM)
			return st;
		if (st == SF_OK)
		{
			for (j = 0; j < ni; j++)
				m->skip.layers[0].w[j] = (float) (lm.coef[j] * input_scale(m, j));
			m->skip.layers[0].b[0] = (float) lm.intercept;
			logreg_free(env, &lm);
		}
	}
	return SF_OK;
}

/* Per-row weights from class_weight and scale_pos_weight (class shares of the training rows). */
static void
row_weights(const mlp_params *p, const float *ys, const uint32_t *tr, size_t n_tr,
			size_t n, float *sw)
{
	double		wpos = 1.0,
				wneg = 1.0;
	size_t		i;

	if (p->objective == MLP_OBJ_BINARY)
	{
		size_t		pos = 0;

		for (i = 0; i < n_tr; i++)
			pos += ys[tr[i]] == 1.0f;
		if (p->class_weight == MLP_CW_BALANCED && pos > 0 && pos < n_tr)
		{
			wpos = (double) n_tr / (2.0 * pos);
			wneg = (double) n_tr / (2.0 * (n_tr - pos));
		}
		wpos *= p->scale_pos_weight;
	}
	for (i = 0; i < n; i++)
		sw[i] = (float) (ys[i] == 1.0f && p->objective == MLP_OBJ_BINARY ? wpos : wneg);
}

static sf_status
trainer_new(sf_env *env, const mlp_params *p, const mlp_model *m, size_t n_tr, size_t n_val,
			mlp_trainer *t)
{
	sf_status	st;
	int			ni = m->n_inputs;

	t->bs = p->batch_size < (int) n_tr ? p->batch_size : (int) n_tr;
	if ((st = nn_work_new(env, &m->net, t->bs, &t->work)) != SF_OK ||
		(st = nn_adam_new(env, &t->opt, m->net.n_params, p->learning_rate)) != SF_OK)
		return st;
	if (m->has_skip &&
		((st = nn_work_new(env, &m->skip, t->bs, &t->swork)) != SF_OK ||
		 (st = nn_adam_new(env, &t->sopt, m->skip.n_params, p->learning_rate)) != SF_OK))
		return st;
	if (!sf_alloc_all(env, SF_MALLOC_N(t->xb, (size_t) t->bs * ni), SF_MALLOC_N(t->yb, t->bs),
					  SF_MALLOC_N(t->wb, t->bs), SF_MALLOC_N(t->pb, t->bs)))
		return sf_fail(env, SF_ENOMEM, "out of memory for training batches");
	if (m->has_skip)
	{
		/* logistic regression's penalty 0.5 |w_raw|^2 / (C n) on the raw scale */
		int			j;

		t->skip_decay = sf_malloc(env, sizeof(float) * ni);
		if (t->skip_decay == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory for training batches");
		for (j = 0; j < ni; j++)
		{
			double		sc = input_scale(m, j);

			t->skip_decay[j] = (float) (1.0 / (MLP_SKIP_C * (double) n_tr * sc * sc));
		}
	}
	if (m->has_skip && p->early_stopping_rounds > 0 && n_val > 0)
	{
		if (!sf_alloc_all(env, SF_MALLOC_N(t->loss_start, n_val), SF_MALLOC_N(t->loss_best, n_val),
						  SF_MALLOC_N(t->start, m->net.n_params + m->skip.n_params)))
			return sf_fail(env, SF_ENOMEM, "out of memory for validation losses");
	}
	t->loss.kind = p->objective == MLP_OBJ_BINARY ? NN_LOSS_LOGLOSS : NN_LOSS_SQUARED;
	t->loss.n_out = 1;
	t->loss.taus = NULL;
	return SF_OK;
}

static void
trainer_free(sf_env *env, mlp_trainer *t)
{
	nn_work_free(env, &t->work);
	nn_work_free(env, &t->swork);
	nn_adam_free(env, &t->opt);
	nn_adam_free(env, &t->sopt);
	sf_free_all(env, t->xb, t->yb, t->wb, t->pb, t->loss_start, t->loss_best, t->start, t->skip_decay);
}

/* Both nets' parameters into or out of a snapshot. */
static void
snapshot(mlp_model *m, float *keep, int save)
{
	float	   *skip_keep = keep + m->net.n_params;

	if (save)
	{
		memcpy(keep, m->net.params, sizeof(float) * m->net.n_params);
		if (m->has_skip)
			memcpy(skip_keep, m->skip.params, sizeof(float) * m->skip.n_params);
	}
	else
	{
		memcpy(m->net.params, keep, sizeof(float) * m->net.n_params);
		if (m->has_skip)
			memcpy(m->skip.params, skip_keep, sizeof(float) * m->skip.n_params);
	}
}

/* One epoch over the training rows tr[0..n_tr); *tl gets the mean training loss. */
static sf_status
run_epoch(sf_env *env, const mlp_params *p, mlp_model *m, mlp_trainer *t, const float *xs,
		  const float *ys, const float *sw, uint32_t *tr, size_t n_tr,
		  sf_rng *rng_shuffle, sf_rng *rng_drop, double *tl)
{
	double		loss = 0.0,
				tw = 0.0;
	size_t		s;
	int			batch_no = 0;

	sf_rng_shuffle_u32(rng_shuffle, tr, (uint32_t) n_tr);
	for (s = 0; s < n_tr; s += (size_t) t->bs)
	{
		int			bm = (int) ((n_tr - s) < (size_t) t->bs ? (n_tr - s) : (size_t) t->bs);

		if ((batch_no++ & 15) == 0 && sf_interrupted(env))
			return sf_fail(env, SF_ECANCEL, "mlp training canceled");
		tw += batch_gather(t, m->n_inputs, xs, ys, sw, tr + s, bm);
		batch_forward(t, m, bm, p->dropout, p->dropout > 0 ? rng_drop : NULL);
		loss += nn_loss_value(&t->loss, t->pb, t->yb, t->wb, bm);
		batch_step(t, m, bm, p->weight_decay);
	}
	*tl = tw > 0 ? loss / tw : 0.0;
	return SF_OK;
}

/*
 * The epochs: idx[0..n_val) are the validation rows, the rest the training
 * rows.  With early stopping the best epoch's weights (or, with the skip,
 * the start's) are kept.
 */
static sf_status
train_epochs(sf_env *env, const mlp_params *p, mlp_model *m, mlp_trainer *t, const float *xs,
			 const float *ys, const float *sw, uint32_t *idx, size_t n_val, size_t n,
			 float *best)
{
	sf_rng		rng_shuffle,
				rng_drop;
	size_t		n_tr = n - n_val;
	double		best_val = INFINITY;
	int			early = p->early_stopping_rounds > 0;
	int			have_best = 0,
				since_best = 0,
				epoch;
	sf_status	st;

	sf_rng_init(&rng_shuffle, (uint64_t) p->seed, 3);
	sf_rng_init(&rng_drop, (uint64_t) p->seed, 4);
	if (t->start)
	{
		/* epoch 0: the logistic regression start */
		best_val = eval_loss(t, m, xs, ys, sw, idx, n_val, t->loss_start);
		m->best_epoch = 0;
		m->train_loss = eval_loss(t, m, xs, ys, sw, idx + n_val, n_tr, NULL);
		m->valid_loss = best_val;
		snapshot(m, t->start, 1);
		snapshot(m, best, 1);
		have_best = 1;
	}
	for (epoch = 1; epoch <= p->epochs; epoch++)
	{
		double		tl = 0.0;

		if ((st = run_epoch(env, p, m, t, xs, ys, sw, idx + n_val, n_tr,
							&rng_shuffle, &rng_drop, &tl)) != SF_OK)
			return st;
		if (!isfinite(tl))
			return sf_fail(env, SF_ENUMERIC,
						   "mlp training diverged in epoch %d (try a smaller learning_rate)", epoch);
		m->epochs_run = epoch;
		if (!early)
		{
			m->best_epoch = epoch;
			m->train_loss = tl;
			m->valid_loss = NAN;
			sf_progress_report(env, "epoch", epoch, p->epochs, 0, "loss", tl, NAN);
			continue;
		}
		{
			double		vl = eval_loss(t, m, xs, ys, sw, idx, n_val, NULL);

			sf_progress_report(env, "epoch", epoch, p->epochs, 1, "loss", tl, vl);
			if (vl < best_val)
			{
				best_val = vl;
				m->best_epoch = epoch;
				m->train_loss = tl;
				m->valid_loss = vl;
				snapshot(m, best, 1);
				have_best = 1;
				since_best = 0;
				if (t->start)
					eval_loss(t, m, xs, ys, sw, idx, n_val, t->loss_best);
			}
			else if (++since_best >= p->early_stopping_rounds)
				break;
		}
	}
	if (t->start && m->best_epoch > 0 && !clearly_better(t->loss_start, t->loss_best, n_val))
	{
		/* keep the start: the network's gain is within the validation noise */
		snapshot(m, t->start, 0);
		m->best_epoch = 0;
		m->valid_loss = eval_loss(t, m, xs, ys, sw, idx, n_val, NULL);
		m->train_loss = eval_loss(t, m, xs, ys, sw, idx + n_val, n_tr, NULL);
		return SF_OK;
	}
	if (early && have_best)
		snapshot(m, best, 0);
	return SF_OK;
}

static int
params_finite(const nn_net *net)
{
	size_t		i;

	for (i = 0; i < net->n_params; i++)
		if (!isfinite(net->params[i]))
			return 0;
	return 1;
}

/*
 * One training pass on the standardised rows: idx[0..n_val) validate,
 * idx[n_val..n) train.  Builds m's nets from the seed, so a second pass
 * starts from the same initial weights.
 */
static sf_status
fit_pass(sf_env *env, const mlp_params *p, mlp_model *m, const float *xs, const float *ys,
		 float *sw, uint32_t *idx, size_t n_val, size_t n)
{
	mlp_trainer t;
	sf_rng		rng_init;
	float	   *best = NULL;
	sf_status	st;

	memset(&t, 0, sizeof(t));
	sf_rng_init(&rng_init, (uint64_t) p->seed, 2);
	if ((st = build_nets(env, p, m, &rng_init)) != SF_OK)
		return st;
	best = sf_malloc(env, sizeof(float) * (m->net.n_params + m->skip.n_params));
	if (best == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the kept weights");
	row_weights(p, ys, idx + n_val, n - n_val, n, sw);
	if ((!m->has_skip || (st = skip_start(env, m, xs, ys, idx + n_val, n - n_val)) == SF_OK) &&
		(st = trainer_new(env, p, m, n - n_val, n_val, &t)) == SF_OK &&
		(st = train_epochs(env, p, m, &t, xs, ys, sw, idx, n_val, n, best)) == SF_OK &&
		(!params_finite(&m->net) || (m->has_skip && !params_finite(&m->skip))))
		st = sf_fail(env, SF_ENUMERIC, "mlp training produced non-finite weights (try a smaller learning_rate)");
	trainer_free(env, &t);
	sf_free(env, best);
	return st;
}

/*
 * With early stopping and refit, the validation pass only chooses the
 * number of epochs E; the model is then trained again on every row for E
 * epochs (E = 0: the logistic regression start of every row), so no row is
 * lost to validation.
 */
static sf_status
refit_all(sf_env *env, const mlp_params *p, mlp_model *m, const float *xs, const float *ys,
		  float *sw, uint32_t *idx, size_t n)
{
	mlp_params	p2 = *p;
	int			best_epoch = m->best_epoch,
				epochs_run = m->epochs_run;
	double		valid_loss = m->valid_loss;
	sf_status	st;
	size_t		i;

	nn_net_free(env, &m->net);
	nn_net_free(env, &m->skip);
	m->has_skip = 0;
	p2.epochs = best_epoch;
	p2.early_stopping_rounds = 0;
	for (i = 0; i < n; i++)
		idx[i] = (uint32_t) i;
	if ((st = fit_pass(env, &p2, m, xs, ys, sw, idx, 0, n)) != SF_OK)
		return st;
	m->best_epoch = best_epoch;
	m->epochs_run = epochs_run;
	m->valid_loss = valid_loss;
	return SF_OK;
}

static sf_status
mlp_fit_rows(sf_env *env, const mlp_params *p, const mlp_rows *x, const double *y,
			 size_t n, int d, mlp_model *out)
{
	mlp_model	m;
	sf_status	st;
	sf_rng		rng_split;
	float	   *xs = NULL,
			   *ys = NULL,
			   *sw = NULL;
	uint32_t   *idx = NULL;
	size_t		n_val = 0,
				i;
	int			ni;

	memset(&m, 0, sizeof(m));
	memset(out, 0, sizeof(*out));
	if ((st = mlp_params_check(env, p)) != SF_OK)
		return st;
	if (n < 2)
		return sf_fail(env, SF_EDATA, "training data needs at least 2 rows, got %zu", n);
	if (n > UINT32_MAX)
		return sf_fail_hint(env, SF_ELIMIT, "Train on a sample of the rows (for example TABLESAMPLE).",
							"training data has more than %u rows", UINT32_MAX);
	if (d < 1 || d > NN_MAX_UNITS)
		return sf_fail(env, SF_EDATA, "feature width %d is out of range 1..%d", d, NN_MAX_UNITS);
	if ((st = check_labels(env, p, y, n)) != SF_OK)
		return st;
	m.objective = p->objective;
	m.valid_loss = NAN;
	if ((st = input_stats(env, p, x, n, d, &m)) != SF_OK)
		goto done;
	ni = m.n_inputs;

	/* standardised float copy, labels, row order */
	if (!sf_alloc_all(env, SF_CALLOC_N(xs, n * (size_t) ni), SF_MALLOC_N(ys, n), SF_MALLOC_N(sw, n),
					  SF_MALLOC_N(idx, n)))
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for %zu training rows", n);
		goto done;
	}
	for (i = 0; i < n; i++)
	{
		mlp_input_row_of(&m, x, i, xs + i * (size_t) ni);
		ys[i] = (float) y[i];
		idx[i] = (uint32_t) i;
	}

	/* validation split: the first n_val of a seeded permutation */
	if (p->early_stopping_rounds > 0)
	{
		sf_rng_init(&rng_split, (uint64_t) p->seed, 1);
		sf_rng_shuffle_u32(&rng_split, idx, (uint32_t) n);
		n_val = (size_t) floor(p->validation_share * (double) n);
		if (n_val < 1)
			n_val = 1;
		if (n_val >= n)
			n_val = n - 1;
	}
	if ((st = fit_pass(env, p, &m, xs, ys, sw, idx, n_val, n)) != SF_OK)
		goto done;
	if (n_val > 0 && p->refit)
		st = refit_all(env, p, &m, xs, ys, sw, idx, n);

done:
	sf_free_all(env, xs, ys, sw, idx);
	if (st != SF_OK)
		mlp_free(env, &m);
	else
		*out = m;
	return st;
}

sf_status
mlp_fit(sf_env *env, const mlp_params *p, const double *x, const double *y,
		size_t n, int d, mlp_model *out)
{
	mlp_rows	r = {x, NULL};

	return mlp_fit_rows(env, p, &r, y, n, d, out);
}

sf_status
mlp_fit_f32(sf_env *env, const mlp_params *p, const float *x, const double *y,
			size_t n, int d, mlp_model *out)
{
	mlp_rows	r = {NULL, x};

	return mlp_fit_rows(env, p, &r, y, n, d, out);
}
