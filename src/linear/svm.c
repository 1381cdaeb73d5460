/*
 * svm.c
 *	  Linear SVM (svm.h): the parameter table (LinearSVC's names and
 *	  defaults), LIBLINEAR's dual coordinate descent, Platt's sigmoid fit as
 *	  LIBSVM's sigmoid_train, cross-validated decision values, scoring.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "scfrisk/svm.h"
#include "scfrisk/sf_governance.h"
#include "scfrisk/sf_rng.h"

static const char *const svm_losses[] = {"squared_hinge", "hinge", NULL};

static const sf_param_spec svm_specs[] = {
	{"C", SF_PT_DOUBLE, offsetof(svm_params, C), 1.0, 0, 1e6, 1, 0, NULL, NULL,
	"weight of the losses against the L2 penalty 1/2 ||w||^2"},
	{"loss", SF_PT_ENUM, offsetof(svm_params, loss), SVM_LOSS_SQUARED_HINGE, 0, 0, 0, 0, svm_losses, NULL,
	"squared_hinge (LinearSVC's default) or hinge"},
	{"fit_intercept", SF_PT_BOOL, offsetof(svm_params, fit_intercept), 1, 0, 1, 0, 0, NULL, NULL,
	"learn an intercept (a constant feature, regularised as LIBLINEAR does)"},
	{"intercept_scaling", SF_PT_DOUBLE, offsetof(svm_params, intercept_scaling), 1.0, 0, 1e6, 1, 0, NULL, NULL,
	"value of the constant intercept feature"},
	{"tol", SF_PT_DOUBLE, offsetof(svm_params, tol), 1e-4, 0, 1, 1, 0, NULL, NULL,
	"stop when the spread of the dual projected gradient is at most tol"},
	{"max_iter", SF_PT_INT, offsetof(svm_params, max_iter), 1000, 1, 1e8, 0, 0, NULL, NULL,
	"most passes over the rows"},
	{"platt_folds", SF_PT_INT, offsetof(svm_params, platt_folds), 5, 0, 20, 0, 0, NULL, NULL,
	"cross-validation folds of the Platt fit (LIBSVM's 5); 0 fits on the training decision values"},
	{"seed", SF_PT_INT64, offsetof(svm_params, seed), 0, 0, 9.2e18, 0, 0, NULL, NULL,
	"seed of the order the coordinates are visited in"},
	{"feature_names", SF_PT_STR_LIST, offsetof(svm_params, feature_names), 0, 0, SVM_MAX_FEATURES, 0, 0,
	NULL, NULL, "names of the features, one per element of the features array"},
	SF_CALIB_PARAM_SPECS(svm_params, calibrate, calibrate_folds),
	{"verbose", SF_PT_BOOL, offsetof(svm_params, verbose), 0, 0, 1, 0, 0, NULL, NULL,
	"NOTICE lines with the solver's passes (each fit: the Platt folds, then the final) and the time left", 1},
};

static sf_status
svm_params_validate(sf_env *env, const void *obj)
{
	const svm_params *p = obj;

	if (p->platt_folds == 1)
		return sf_fail(env, SF_EINVAL, "platt_folds must be 0 (no cross-validation) or at least 2, got 1");
	return SF_OK;
}

const sf_param_table svm_params_table = {
	"svm_train", svm_specs, (int) (sizeof(svm_specs) / sizeof(svm_specs[0])), svm_params_validate
};

void
svm_free(sf_env *env, svm_model *m)
{
	sf_free(env, m->coef);
	m->coef = NULL;
}

/* ------------------------------------------------------------ the solver */

/* The rows of one fit: x (n, p), labels +-1, the intercept feature value (0: none). */
typedef struct svm_problem
{
	const double *x;
	const int8_t *s;			/* +1 or -1 */
	const uint32_t *rows;		/* rows of x in this fit */
	size_t		n;
	uint32_t	p;
	double		bias;			/* intercept feature value, 0 without intercept */
} svm_problem;

static double
dot_row(const svm_problem *pr, const double *w, size_t r)
{
	const double *xi = pr->x + r * pr->p;
	double		d = pr->bias * w[pr->p];
	uint32_t	j;

	for (j = 0; j < pr->p; j++)
		d += w[j] * xi[j];
	return d;
}

/*
 * LIBLINEAR's solve_l2r_l1l2_svc: dual coordinate descent with shrinking
 * into w (p + 1: the last is the intercept feature's weight).  Returns the
 * passes run in *iters and whether the tolerance was reached.
 */
static sf_status
solve_dual(sf_env *env, const svm_problem *pr, const svm_params *prm, uint64_t stream, double *w,
		   int *iters, int *converged)
{
	size_t		n = pr->n,
				s,
				active = n;
	double		diag = prm->loss == SVM_LOSS_HINGE ? 0.0 : 0.5 / prm->C;
	double		upper = prm->loss == SVM_LOSS_HINGE ? prm->C : INFINITY;
	double	   *alpha = sf_calloc(env, n ? n : 1, sizeof(double));
	double	   *qd = sf_malloc(env, sizeof(double) * (n ? n : 1));
	uint32_t   *index = sf_malloc(env, sizeof(uint32_t) * (n ? n : 1));
	double		pgmax_old = INFINITY,
				pgmin_old = -INFINITY;
	sf_rng		rng;
	int			iter = 0;
	uint32_t	j;

	*converged = 0;
	if (alpha == NULL || qd == NULL || index == NULL)
	{
		sf_free(env, alpha);
		sf_free(env, qd);
		sf_free(env, index);
		return sf_fail(env, SF_ENOMEM, "out of memory fitting the SVM");
	}
	memset(w, 0, sizeof(double) * ((size_t) pr->p + 1));
	for (s = 0; s < n; s++)
	{
		const double *xi = pr->x + (size_t) pr->rows[s] * pr->p;

		qd[s] = diag + pr->bias * pr->bias;
		for (j = 0; j < pr->p; j++)
			qd[s] += xi[j] * xi[j];
		index[s] = (uint32_t) s;
	}
	sf_rng_init(&rng, (uint64_t) prm->seed, stream);
	while (iter < prm->max_iter)
	{
		double		pgmax_new = -INFINITY,
					pgmin_new = INFINITY;

		if (sf_interrupted(env))
		{
			sf_free(env, alpha);
			sf_free(env, qd);
			sf_free(env, index);
			return sf_fail(env, SF_ECANCEL, "canceled");
		}
		sf_rng_shuffle_u32(&rng, index, (uint32_t) active);
		for (s = 0; s < active; s++)
		{
			uint32_t	i = index[s];
			size_t		r = pr->rows[i];
			double		yi = pr->s[r];
			double		g = yi * dot_row(pr, w, r) - 1.0 + alpha[i] * diag,
						pg = 0.0;

			if (alpha[i] == 0.0)
			{
				if (g > pgmax_old)
				{
					/* shrink: this bound stays inactive */
					index[s] = index[--active];
					index[active] = i;
					s--;
					continue;
				}
				else if (g < 0.0)
					pg = g;
			}
			else if (alpha[i] == upper)
			{
				if (g < pgmin_old)
				{
					index[s] = index[--active];
					index[active] = i;
					s--;
					continue;
				}
				else if (g > 0.0)
					pg = g;
			}
			else
				pg = g;
			if (pg > pgmax_new)
				pgmax_new = pg;
			if (pg < pgmin_new)
				pgmin_new = pg;
			if (fabs(pg) > 1e-12)
			{
				double		old = alpha[i],
							d;
				const double *xi = pr->x + r * pr->p;

				alpha[i] = fmin(fmax(alpha[i] - g / qd[i], 0.0), upper);
				d = (alpha[i] - old) * yi;
				for (j = 0; j < pr->p; j++)
					w[j] += d * xi[j];
				w[pr->p] += d * pr->bias;
			}
		}
		iter++;
		sf_progress_report(env, "pass", iter, prm->max_iter, 1, "gap", pgmax_new - pgmin_new, NAN);
		if (pgmax_new - pgmin_new <= prm->tol)
		{
			if (active == n)
			{
				*converged = 1;
				break;
			}
			/* converged on the shrunk set: check every row once more */
			active = n;
			pgmax_old = INFINITY;
			pgmin_old = -INFINITY;
			continue;
		}
		pgmax_old = pgmax_new > 0.0 ? pgmax_new : INFINITY;
		pgmin_old = pgmin_new < 0.0 ? pgmin_new : -INFINITY;
	}
	*iters = iter;
	sf_free(env, alpha);
	sf_free(env, qd);
	sf_free(env, index);
	return SF_OK;
}

/* ------------------------------------------------------------ Platt */

/*
 * LIBSVM's sigmoid_train (Lin, Lin and Weng 2007): Newton's method with a
 * backtracking line search on f (decision values) and labels y (+-1).  The
 * objective and the step are calibration's (sf_platt_step); the stopping
 * rule (an absolute gradient of 1e-5) and p, q are LIBSVM's, so the
 * probabilities stay those its peer test compares.
 */
static void
platt_fit(const double *f, const int8_t *y, double *t, size_t n, double *pa, double *pb)
{
	double		prior1 = 0.0,
				prior0 = 0.0,
				a = 0.0,
				b,
				fval;
	size_t		i;
	int			it;

	for (i = 0; i < n; i++)
		if (y[i] > 0)
			prior1++;
		else
			prior0++;
	for (i = 0; i < n; i++)
		t[i] = y[i] > 0 ? (prior1 + 1.0) / (prior1 + 2.0) : 1.0 / (prior0 + 2.0);
	b = log((prior0 + 1.0) / (prior1 + 1.0));
	fval = sf_platt_loss(f, t, n, a, b);
	for (it = 0; it < 100; it++)
	{
		double		h[3] = {1e-12, 0.0, 1e-12},	/* h11, h21, h22 */
					g[2] = {0.0, 0.0};

		for (i = 0; i < n; i++)
		{
			double		z = f[i] * a + b,
						p,
						q,
						d2,
						d1;

			if (z >= 0.0)
			{
				p = exp(-z) / (1.0 + exp(-z));
				q = 1.0 / (1.0 + exp(-z));
			}
			else
			{
				p = 1.0 / (1.0 + exp(z));
				q = exp(z) / (1.0 + exp(z));
			}
			d2 = p * q;
			h[0] += f[i] * f[i] * d2;
			h[2] += d2;
			h[1] += f[i] * d2;
			d1 = t[i] - p;
			g[0] += f[i] * d1;
			g[1] += d1;
		}
		if (fabs(g[0]) < 1e-5 && fabs(g[1]) < 1e-5)
			break;
		if (!sf_platt_step(f, t, n, g, h, &a, &b, &fval))
			break;				/* the line search failed: keep the last point */
	}
	*pa = a;
	*pb = b;
}

/* ------------------------------------------------------------ fit */

static sf_status
check_data(sf_env *env, const double *x, const double *y, size_t n, uint32_t p)
{
	sf_status	st = sf_check_shape(env, n, p, SVM_MAX_FEATURES);

	if (st != SF_OK)
		return st;
	if (n > UINT32_MAX)
		return sf_fail(env, SF_ELIMIT, "too many training rows (%zu)", n);
	return sf_check_binary_rows(env, x, y, n, p, NULL);
}

/*
 * Decision values for Platt's fit into f: with k folds, row i (in the
 * given order) belongs to fold i mod k and is scored by the SVM fitted on
 * the other folds (LIBSVM's cross-validation, with fixed folds); without
 * folds, by w.
 */
static sf_status
platt_values(sf_env *env, const svm_problem *all, const svm_params *prm, const double *w,
			 uint32_t *rows, double *wk, double *f)
{
	size_t		i,
				m;
	int			k,
				it,
				conv;
	sf_status	st;

	if (prm->platt_folds == 0)
	{
		for (i = 0; i < all->n; i++)
			f[i] = dot_row(all, w, i);
		return SF_OK;
	}
	for (k = 0; k < prm->platt_folds; k++)
	{
		svm_problem pk = *all;

		m = 0;
		for (i = 0; i < all->n; i++)
			if ((int) (i % (size_t) prm->platt_folds) != k)
				rows[m++] = (uint32_t) i;
		pk.rows = rows;
		pk.n = m;
		if ((st = solve_dual(env, &pk, prm, (uint64_t) k + 2, wk, &it, &conv)) != SF_OK)
			return st;
		for (i = (size_t) k; i < all->n; i += (size_t) prm->platt_folds)
			f[i] = dot_row(all, wk, i);
	}
	return SF_OK;
}

sf_status
svm_fit(sf_env *env, const svm_params *prm, const double *x, const double *y, size_t n, uint32_t p,
		svm_model *out)
{
	svm_problem pr;
	int8_t	   *s = NULL;
	uint32_t   *rows = NULL;
	double	   *w = NULL,
			   *wk = NULL,
			   *f = NULL,
			   *t = NULL;
	size_t		i;
	sf_status	st;

	memset(out, 0, sizeof(*out));
	if ((st = sf_params_validate(env, &svm_params_table, prm)) != SF_OK)
		return st;
	if (!(prm->C > 0.0) || !(prm->tol > 0.0) || prm->max_iter < 1 || !(prm->intercept_scaling > 0.0))
		return sf_fail(env, SF_EINVAL, "parameters out of range");
	if ((st = check_data(env, x, y, n, p)) != SF_OK)
		return st;
	if ((size_t) prm->platt_folds > n)
		return sf_fail(env, SF_EDATA, "platt_folds is %d but there are only %zu rows",
					   prm->platt_folds, n);
	s = sf_malloc(env, n);
	rows = sf_malloc(env, sizeof(uint32_t) * n);
	w = sf_calloc(env, (size_t) p + 1, sizeof(double));
	wk = sf_calloc(env, (size_t) p + 1, sizeof(double));
	f = sf_malloc(env, sizeof(double) * n);
	t = sf_malloc(env, sizeof(double) * n);
	out->coef = sf_calloc(env, p, sizeof(double));
	if (!s || !rows || !w || !wk || !f || !t || !out->coef)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory fitting the SVM");
		goto done;
	}
	for (i = 0; i < n; i++)
	{
		s[i] = y[i] > 0.5 ? 1 : -1;
		rows[i] = (uint32_t) i;
	}
	pr.x = x;
	pr.s = s;
	pr.rows = rows;
	pr.n = n;
	pr.p = p;
	pr.bias = prm->fit_intercept ? prm->intercept_scaling : 0.0;
	if ((st = solve_dual(env, &pr, prm, 1, w, &out->iterations, &out->converged)) != SF_OK)
		goto done;
	if ((st = platt_values(env, &pr, prm, w, rows, wk, f)) != SF_OK)
		goto done;
	platt_fit(f, s, t, n, &out->platt_a, &out->platt_b);
	out->n_features = p;
	out->train_rows = n;
	memcpy(out->coef, w, sizeof(double) * p);
	out->intercept = w[p] * pr.bias;
done:
	sf_free(env, s);
	sf_free(env, rows);
	sf_free(env, w);
	sf_free(env, wk);
	sf_free(env, f);
	sf_free(env, t);
	if (st != SF_OK)
		svm_free(env, out);
	return st;
}

/* ------------------------------------------------------------ scoring */

double
svm_decision(const svm_model *m, const double *x)
{
	double		d = m->intercept;
	uint32_t	j;

	for (j = 0; j < m->n_features; j++)
		d += m->coef[j] * x[j];
	return d;
}

double
svm_predict(const svm_model *m, const double *x)
{
	double		z = m->platt_a * svm_decision(m, x) + m->platt_b;

	/* 1 / (1 + exp(z)) without overflow */
	return z >= 0.0 ? exp(-z) / (1.0 + exp(-z)) : 1.0 / (1.0 + exp(z));
}
