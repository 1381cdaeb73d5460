/*
 * deepfm_refit.c
 *	  The optional refit of a trained quantile DeepFM network: exact linear
 *	  quantile regressions on the features the network learned (declared in
 *	  deepfm.h).
 *
 * methods/qrgmm_scf.md section 4.2, last bullet: freeze phi(x) = [y1, y2,
 * h] (first-order terms, FM term, the MLP's last layer) and fit linear QRGMM
 * on [1, phi(x)] at levels j/m, which may be finer than the head's grid
 * (sqrt(n) by default, as linear QRGMM).  Generation is then that of section
 * 2: q_j(x) = [1, phi(x)]' beta_j, rearranged, with the model's tail rule
 * on the refit's grid (deepfm_curve).  Features that are constant
 * on the training rows (dead ReLU units, fields with one level) and
 * features that are linear combinations of earlier ones are dropped first,
 * so the solver sees a full-rank design; the levels are fitted by
 * qrgmm_levels.c (Frisch-Newton, Portnoy-Koenker preprocessing from 20,000
 * rows, fixed warm-started chains on scfrisk.threads threads), whose
 * results do not depend on the thread count.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/deepfm.h"
#include "scfrisk/qrgmm.h"
#include "scfrisk/quantreg.h"
#include "qrgmm_levels.h"

#define REFIT_MAX_CELLS		((size_t) 1 << 27)	/* n x P doubles of the design (1 GiB) */

/* phi of every training row, (n, P) row-major doubles, through the batch path. */
static sf_status
training_features(sf_env *env, const deepfm_model *model, const double *X, size_t n, double *D)
{
	deepfm_work w;
	int			P = model->n_phi;
	size_t		s;
	int			i,
				c;
	sf_status	st = deepfm_work_new(env, model, 256, &w);

	if (st != SF_OK)
		return st;
	for (s = 0; s < n; s += 256)
	{
		int			bm = (int) (n - s < 256 ? n - s : 256);
		uint32_t	idx[256];

		if (sf_interrupted(env))
		{
			deepfm_work_free(env, &w);
			return sf_fail(env, SF_ECANCEL, "qrgmm_deepfm_train canceled");
		}
		for (i = 0; i < bm; i++)
			idx[i] = (uint32_t) (s + i);
		deepfm_batch_inputs(model, &w, X, idx, bm);
		deepfm_forward(model, &w, bm, 0.0, NULL);
		for (i = 0; i < bm; i++)
			for (c = 0; c < P; c++)
				D[(s + i) * P + c] = w.phi[(size_t) i * P + c];
	}
	deepfm_work_free(env, &w);
	return SF_OK;
}

/* design (n, 1 + nc) = [1, D[:, cols]] */
static void
build_design(const double *D, size_t n, int P, const uint32_t *cols, int nc, double *design)
{
	size_t		i;
	int			c;

	for (i = 0; i < n; i++)
	{
		double	   *row = design + i * (size_t) (nc + 1);

		row[0] = 1.0;
		for (c = 0; c < nc; c++)
			row[c + 1] = D[i * P + cols[c]];
	}
}

/* The learned features that vary on the training rows into cols; their count. */
static int
varying_features(const double *D, size_t n, int P, uint32_t *cols)
{
	int			nc = 0,
				c;
	size_t		i;

	for (c = 0; c < P; c++)
	{
		double		mu = 0.0,
					ss = 0.0;

		for (i = 0; i < n; i++)
			mu += D[i * P + c];
		mu /= (double) n;
		for (i = 0; i < n; i++)
			ss += (D[i * P + c] - mu) * (D[i * P + c] - mu);
		if (sqrt(ss / (double) n) > 1e-9 * (1.0 + fabs(mu)))
			cols[nc++] = (uint32_t) c;
	}
	return nc;
}

/*
 * Drop constant (after rounding) and collinear features from cols until the
 * standardised design (intercept first) has full rank; *nc is updated.
 */
static sf_status
full_rank_design(sf_env *env, const double *D, size_t n, int P, uint32_t *cols, int *nc,
				 double *design, double *center, double *scale)
{
	for (;;)
	{
		int			bad = -1;

		build_design(D, n, P, cols, *nc, design);
		if (sf_qr_standardize(env, design, (int) n, *nc + 1, center, scale, &bad) == SF_OK &&
			sf_qr_check_rank(env, design, (int) n, *nc + 1, 1e-10, &bad) == SF_OK)
			return SF_OK;
		if (bad < 1 || bad > *nc)
			return sf_fail(env, SF_ENUMERIC, "refit: the learned features give no usable design");
		memmove(cols + bad - 1, cols + bad, (size_t) (*nc - bad) * sizeof(uint32_t));
		(*nc)--;
	}
}

/* The refit's grid m for n rows and p columns: refit_m, or QRGMM's automatic grid. */
static sf_status
refit_grid(sf_env *env, const deepfm_params *params, size_t n, int p, int *m_out)
{
	int			m;

	if (params->refit_m > 0)
	{
		m = params->refit_m;
		if ((size_t) m > n / (size_t) p)
			return sf_fail(env, SF_EINVAL,
						   "parameter \"refit_m\" = %d is too large for %zu rows and %d refit columns: the largest usable value is %zu",
						   m, n, p, n / (size_t) p);
	}
	else
	{
		m = (int) ceil(sqrt((double) n));
		if (m < QRGMM_AUTO_M_MIN)
			m = QRGMM_AUTO_M_MIN;
		if (m > QRGMM_AUTO_M_MAX)
			m = QRGMM_AUTO_M_MAX;
		if ((size_t) m > n / (size_t) p)
			m = (int) (n / (size_t) p);
		if (m < 2)
			return sf_fail(env, SF_EDATA, "refit: too few rows for %d refit columns", p);
	}
	*m_out = m;
	return SF_OK;
}

/* The levels' regressions on the design (qrgmm_levels.c), into coef ((m - 1) x p). */
static sf_status
refit_levels(sf_env *env, const deepfm_model *model, const deepfm_params *params,
			 const double *design, const double *y, size_t n, int p, int m,
			 const double *center, const double *scale, double *coef, uint32_t *iters,
			 double *gaps)
{
	qrgmm_levels_job job;
	sf_status	st;
	size_t		i;

	job.design = design;
	job.y = y;
	job.n = (int) n;
	job.p = p;
	job.m = m;
	job.preprocess = n >= QRGMM_PFN_MIN_ROWS;
	job.seed = (uint64_t) params->seed;
	job.opt.eps = SF_QR_DEFAULT_EPS;
	job.opt.max_iter = SF_QR_DEFAULT_MAX_ITER;
	job.center = center;
	job.scale = scale;
	job.y_center = model->y_center;
	job.y_scale = model->y_scale;
	job.coef = coef;
	job.iterations = iters;
	job.gaps = gaps;
	if ((st = qrgmm_fit_levels(env, &job)) != SF_OK)
		return st;
	for (i = 0; i < (size_t) (m - 1) * p; i++)
		if (!isfinite(coef[i]))
			return sf_fail(env, SF_ENUMERIC, "refit: a level's coefficients are not finite");
	return SF_OK;
}

sf_status
deepfm_refit(sf_env *env, deepfm_model *model, const deepfm_params *params,
			 const double *X, const double *S, size_t n)
{
	int			P = model->n_phi;
	double	   *D = NULL,
			   *design = NULL,
			   *y = NULL,
			   *center = NULL,
			   *scale = NULL,
			   *gaps = NULL,
			   *coef = NULL;
	uint32_t   *cols = NULL,
			   *iters = NULL;
	int			nc,
				p,
				m = 0;
	size_t		i;
	sf_status	st;

	if ((size_t) P * n > REFIT_MAX_CELLS)
	{
		sf_fail(env, SF_ELIMIT, "refit: %zu rows x %d features exceed the cap of %zu design cells",
				n, P, REFIT_MAX_CELLS);
		sf_hint(env, "Refit on a sample of at most %zu rows.", REFIT_MAX_CELLS / (size_t) P);
		return SF_ELIMIT;
	}
	if (!sf_alloc_all(env, SF_MALLOC_N(D, n * (size_t) P), SF_MALLOC_N(design, n * (size_t) (P + 1)),
					  SF_MALLOC_N(y, n), SF_MALLOC_N(cols, P), SF_MALLOC_N(center, P + 1),
					  SF_MALLOC_N(scale, P + 1)))
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for the refit design");
		goto done;
	}
	if ((st = training_features(env, model, X, n, D)) != SF_OK)
		goto done;
	nc = varying_features(D, n, P, cols);
	if ((st = full_rank_design(env, D, n, P, cols, &nc, design, center, scale)) != SF_OK)
		goto done;
	p = nc + 1;
	if (n <= (size_t) p * 2)
	{
		st = sf_fail(env, SF_EDATA, "refit: %zu rows are too few for %d learned features", n, nc);
		goto done;
	}
	if ((st = refit_grid(env, params, n, p, &m)) != SF_OK)
		goto done;

	/* y standardised with the model's scaling */
	for (i = 0; i < n; i++)
		y[i] = (sf_transform_apply(model->transform, S[i]) - model->y_center) / model->y_scale;
	coef = sf_calloc(env, (size_t) (m - 1) * p, sizeof(double));
	iters = sf_calloc(env, (size_t) (m - 1), sizeof(uint32_t));
	gaps = sf_calloc(env, (size_t) (m - 1), sizeof(double));
	if (!coef || !iters || !gaps)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for the refit coefficients");
		goto done;
	}
	if ((st = refit_levels(env, model, params, design, y, n, p, m, center, scale, coef, iters,
						   gaps)) != SF_OK)
		goto done;
	model->refit_m = m;
	model->refit_p = p;
	model->refit_coef = coef;
	coef = NULL;
	model->refit_cols = sf_malloc(env, (size_t) (nc ? nc : 1) * sizeof(uint32_t));
	if (model->refit_cols == NULL)
	{
		model->refit_m = 0;
		st = sf_fail(env, SF_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(model->refit_cols, cols, (size_t) nc * sizeof(uint32_t));

done:
	sf_free_all(env, D, design, y, cols, center, scale, gaps, iters, coef);
	return st;
}
