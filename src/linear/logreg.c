/*
 * logreg.c
 *	  L2-regularised logistic regression by Newton's method.
 *
 * With z = X~ theta (X~ = [X, 1] when an intercept is fitted), the objective
 *	  F(theta) = 0.5 w'w + C sum_i [log(1 + e^z_i) - y_i z_i]
 * has gradient g = P w + C X~'(p - y) and Hessian H = P + C X~' D X~ with
 * D = diag(p (1 - p)) and P the identity on w and zero on the intercept.  Each
 * iteration solves H delta = g by Cholesky and backtracks (Armijo) along
 * -delta; F is strictly convex in w, so Newton converges quadratically to the
 * unique optimum that scikit-learn's lbfgs/newton-cg solvers approach
 * (Nocedal and Wright, "Numerical Optimization", ch. 3 and 6; Lin, Weng and
 * Keerthi 2008 for the trust-region variant liblinear uses).
 *
 * It stops when the largest gradient element is at most tol * max(1, C n),
 * or when the decrease the Newton step predicts (half the Newton decrement
 * g'H^-1 g, Boyd and Vandenberghe, "Convex Optimization", 9.5.1) is below
 * the rounding noise of F itself: the step is then taken in full, unjudged,
 * and is the last.  Over many rows the gradient's own rounding can keep it
 * above tol where F no longer tells a step from none; a line search there
 * only compares roundings, and each of its trials is a pass over the rows
 * (a round trip to every shard in logreg_train_sharded).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/logreg.h"
#include "scfrisk/sf_blas.h"
#include "scfrisk/sf_codec.h"
#include "scfrisk/sf_governance.h"

static const sf_param_spec logreg_specs[] = {
	{"C", SF_PT_DOUBLE, offsetof(logreg_params, C), 1.0, 0, 1e12, 1, 0, NULL, NULL,
	"inverse of the L2 regularisation strength, as scikit-learn's C"},
	{"fit_intercept", SF_PT_BOOL, offsetof(logreg_params, fit_intercept), 1, 0, 1, 0, 0, NULL, NULL,
	"learn an unpenalised intercept"},
	{"max_iter", SF_PT_INT, offsetof(logreg_params, max_iter), 100, 1, 10000, 0, 0, NULL, NULL,
	"Newton iterations"},
	{"tol", SF_PT_DOUBLE, offsetof(logreg_params, tol), 1e-10, 0, 1, 1, 0, NULL, NULL,
	"stop when the largest gradient element is at most tol * max(1, C n)"},
	{"feature_names", SF_PT_STR_LIST, offsetof(logreg_params, feature_names), 0, 0, LOGREG_MAX_FEATURES, 0, 0, NULL, NULL,
	"names of the features, one per element of the features array"},
	{"verbose", SF_PT_BOOL, offsetof(logreg_params, verbose), 0, 0, 1, 0, 0, NULL, NULL,
	"NOTICE lines with the Newton iteration, the objective and the time left", 1},
	SF_CALIB_PARAM_SPECS(logreg_params, calibrate, calibrate_folds),
};

const sf_param_table logreg_params_table = {
	"logreg_train", logreg_specs, (int) (sizeof(logreg_specs) / sizeof(logreg_specs[0])), NULL
};

/* log(1 + e^z) without overflow */
static inline double
softplus(double z)
{
	return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static inline double
sigmoid(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	else
	{
		double		e = exp(z);

		return e / (1.0 + e);
	}
}

/*
 * The log-loss sum over the rows at theta (d coefficients then the intercept
 * when k = d + 1): sum_i log(1 + e^z_i) - y_i z_i, in row order.
 */
double
logreg_loss(const double *x, const double *y, size_t n, int d, int k, const double *theta)
{
	double		l = 0.0;
	size_t		i;
	int			j;

	for (i = 0; i < n; i++)
	{
		const double *r = x + i * (size_t) d;
		double		z = k > d ? theta[d] : 0.0;

		for (j = 0; j < d; j++)
			z += r[j] * theta[j];
		l += softplus(z) - y[i] * z;
	}
	return l;
}

/* The shape of a training set: at least 2 rows, 1 to LOGREG_MAX_FEATURES features. */
sf_status
logreg_check_shape(sf_env *env, size_t n, int d)
{
	if (n < 2)
		return sf_fail(env, SF_EDATA, "training data needs at least 2 rows, got %zu", n);
	if (d < 1)
		return sf_fail(env, SF_EDATA, "training data needs at least one feature");
	if (d > LOGREG_MAX_FEATURES)
		return sf_fail_hint(env, SF_ELIMIT, "Select fewer features, or use xgb_train or mlp_train.",
							"logistic regression takes at most %d features, got %d",
							LOGREG_MAX_FEATURES, d);
	return SF_OK;
}

/* Labels 0 or 1 and finite features in every row; *pos counts the labels 1. */
sf_status
logreg_check_labels(sf_env *env, const double *x, const double *y, size_t n, int d, size_t *pos)
{
	size_t		i;
	int			j;

	*pos = 0;
	for (i = 0; i < n; i++)
	{
		if (!isfinite(y[i]) || (y[i] != 0.0 && y[i] != 1.0))
			return sf_fail(env, SF_EDATA, "label of row %zu is %g, logistic regression needs 0 or 1",
						   i + 1, y[i]);
		*pos += y[i] == 1.0;
		for (j = 0; j < d; j++)
			if (!isfinite(x[i * (size_t) d + j]))
				return sf_fail(env, SF_EDATA, "feature %d of row %zu is missing or not finite",
							   j + 1, i + 1);
	}
	return SF_OK;
}

/* Both classes among the n rows, pos of them labelled 1. */
sf_status
logreg_check_classes(sf_env *env, size_t pos, size_t n)
{
	if (pos == 0 || pos == n)
		return sf_fail(env, SF_EDATA, "training data has only one class (%s)",
					   pos == 0 ? "all labels 0" : "all labels 1");
	return SF_OK;
}

/* Labels 0/1 with both classes, every feature finite. */
static sf_status
check_rows(sf_env *env, const double *x, const double *y, size_t n, int d)
{
	size_t		pos;
	sf_status	st;

	if ((st = logreg_check_shape(env, n, d)) != SF_OK ||
		(st = logreg_check_labels(env, x, y, n, d, &pos)) != SF_OK)
		return st;
	return logreg_check_classes(env, pos, n);
}

/*
 * Add the log-loss terms at theta of the rows, times C, to the gradient g (k)
 * and the lower triangle of the Hessian h (k, k), in row order (the
 * intercept is column d when k > d).
 */
void
logreg_grad_hess(const double *x, const double *y, size_t n, int d, int k, double C,
				 const double *theta, double *g, double *h)
{
	size_t		i;
	int			j;

	for (i = 0; i < n; i++)
	{
		const double *r = x + i * (size_t) d;
		double		z = k > d ? theta[d] : 0.0;
		double		pr,
					w,
					e;
		int			a,
					b;

		for (j = 0; j < d; j++)
			z += r[j] * theta[j];
		pr = sigmoid(z);
		e = C * (pr - y[i]);
		w = C * pr * (1.0 - pr);
		for (a = 0; a < d; a++)
		{
			double		wa = w * r[a];

			g[a] += e * r[a];
			for (b = 0; b <= a; b++)
				h[a * k + b] += wa * r[b];
		}
		if (k > d)
		{
			g[d] += e;
			for (b = 0; b < d; b++)
				h[d * k + b] += w * r[b];
			h[d * k + d] += w;
		}
	}
}

/* The sums of rows held here: logreg_fit's source of logreg_sums. */
typedef struct local_rows
{
	const double *x,
			   *y;
	size_t		n;
} local_rows;

static sf_status
local_loss(sf_env *env, void *ctx, const double *theta, int d, int k, double *l)
{
	const local_rows *r = ctx;

	(void) env;
	*l = logreg_loss(r->x, r->y, r->n, d, k, theta);
	return SF_OK;
}

static sf_status
local_grad_hess(sf_env *env, void *ctx, const double *theta, int d, int k, double C,
				double *g, double *h)
{
	const local_rows *r = ctx;

	(void) env;
	logreg_grad_hess(r->x, r->y, r->n, d, k, C, theta, g, h);
	return SF_OK;
}

/* The objective: the L2 term of the coefficients plus C times the rows' loss. */
static sf_status
objective(sf_env *env, const logreg_sums *rows, void *ctx, int d, int k, double C,
		  const double *theta, double *f)
{
	double		reg = 0.0,
				l;
	int			j;
	sf_status	st;

	for (j = 0; j < d; j++)
		reg += 0.5 * theta[j] * theta[j];
	if ((st = rows->loss(env, ctx, theta, d, k, &l)) != SF_OK)
		return st;
	*f = reg + C * l;
	return SF_OK;
}

/*
 * Gradient g (k) and the lower triangle of the Hessian h (k, k) of the
 * objective at theta: the L2 term of the coefficients (the intercept, column
 * d when k > d, is not penalised) plus the rows' log-loss terms.
 */
static sf_status
gradient_hessian(sf_env *env, const logreg_sums *rows, void *ctx, int d, int k, double C,
				 const double *theta, double *g, double *h)
{
	int			j;

	memset(h, 0, sizeof(double) * (size_t) k * k);
	for (j = 0; j < k; j++)
		g[j] = j < d ? theta[j] : 0.0;
	return rows->grad_hess(env, ctx, theta, d, k, C, g, h);
}

/*
 * The Newton direction: solve (H + I on the coefficients) delta = g by
 * Cholesky, nudging the diagonal once when a saturated intercept makes the
 * system singular.  h holds the lower triangle on entry, is overwritten.
 */
static sf_status
newton_direction(sf_env *env, double *h, const double *g, int d, int k, double C, size_t n,
				 double *delta)
{
	int			j,
				t;

	for (j = 0; j < d; j++)
		h[j * k + j] += 1.0;
	for (j = 0; j < k; j++)
		for (t = j + 1; t < k; t++)
			h[j * k + t] = h[t * k + j];
	if (sf_cholesky(h, k) != 0)
	{
		/* saturated intercept column: nudge the diagonal and retry once */
		for (j = 0; j < k; j++)
			for (t = j + 1; t < k; t++)
				h[t * k + j] = h[j * k + t];
		for (j = 0; j < k; j++)
			h[j * k + j] += 1e-10 * fmax(1.0, C * (double) n);
		if (sf_cholesky(h, k) != 0)
			return sf_fail(env, SF_ENUMERIC, "logistic regression: Newton system is singular");
	}
	memcpy(delta, g, sizeof(double) * k);
	sf_cholesky_solve(h, k, delta);
	return SF_OK;
}

/*
 * The rounding noise of the objective f, a sum of n + 1 terms that are never
 * negative (the L2 term and C times each row's log-loss): sqrt(n + 1) eps f,
 * the probabilistic estimate of the error of a recursive sum (Higham,
 * "Accuracy and Stability of Numerical Algorithms", 2nd ed., 4.2).  Two
 * objectives closer than this cannot be told apart.
 */
static double
objective_noise(double f, size_t n)
{
	return sqrt((double) n + 1.0) * DBL_EPSILON * fabs(f);
}

/*
 * Backtracking line search (Armijo, halving up to 60 times) from theta along
 * -delta, whose slope g'delta is given; on success theta and *f move there
 * and *moved is 1.  *moved is 0 when no step decreases the objective at
 * double precision (a step below 1e-8 that leaves it equal is none): theta
 * is then the optimum.
 */
static sf_status
line_search(sf_env *env, const logreg_sums *rows, void *ctx, int d, int k, double C,
			double slope, const double *delta, double *theta, double *trial, double *f,
			int *moved)
{
	double		step = 1.0;
	int			j,
				t;
	sf_status	st;

	*moved = 0;
	for (t = 0; t < 60; t++)
	{
		double		ft;

		for (j = 0; j < k; j++)
			trial[j] = theta[j] - step * delta[j];
		if ((st = objective(env, rows, ctx, d, k, C, trial, &ft)) != SF_OK)
			return st;
		if (step < 1e-8 && ft == *f)
			return SF_OK;
		if (ft <= *f - 1e-4 * step * slope || (ft < *f && step < 1e-8))
		{
			*f = ft;
			memcpy(theta, trial, sizeof(double) * k);
			*moved = 1;
			return SF_OK;
		}
		step *= 0.5;
	}
	return SF_OK;
}

/*
 * The last Newton step, when the decrease it predicts is below the
 * objective's noise: the full step -delta, the quadratic model's minimiser,
 * which this close to the optimum is exact to the objective's precision.  It
 * is judged only against the noise (a rise past it keeps theta: the model was
 * wrong, and the optimum is as close as F can tell), so it costs one
 * objective, never a line search's trials.
 */
static sf_status
final_step(sf_env *env, const logreg_sums *rows, void *ctx, int d, int k, double C, size_t n,
		   const double *delta, double *theta, double *trial, double *f)
{
	double		ft;
	int			j;
	sf_status	st;

	for (j = 0; j < k; j++)
		trial[j] = theta[j] - delta[j];
	if ((st = objective(env, rows, ctx, d, k, C, trial, &ft)) != SF_OK)
		return st;
	if (ft <= *f + objective_noise(*f, n))
	{
		*f = ft;
		memcpy(theta, trial, sizeof(double) * k);
	}
	return SF_OK;
}

sf_status
logreg_fit(sf_env *env, const logreg_params *p, const double *x, const double *y,
		   size_t n, int d, logreg_model *out)
{
	local_rows	r = {x, y, n};
	static const logreg_sums local = {local_loss, local_grad_hess};
	sf_status	st;

	memset(out, 0, sizeof(*out));
	if ((st = check_rows(env, x, y, n, d)) != SF_OK)
		return st;
	return logreg_fit_sums(env, p, n, d, &local, &r, out);
}

sf_status
logreg_fit_sums(sf_env *env, const logreg_params *p, size_t n, int d, const logreg_sums *rows,
				void *ctx, logreg_model *out)
{
	int			k = d + (p->fit_intercept ? 1 : 0);
	double	   *theta = NULL,
			   *g = NULL,
			   *h = NULL,
			   *delta = NULL,
			   *trial = NULL;
	double		f,
				C = p->C;
	int			it,
				j;
	sf_status	st;

	memset(out, 0, sizeof(*out));
	if (!sf_alloc_all(env, SF_CALLOC_N(theta, k), SF_CALLOC_N(g, k), SF_CALLOC_N(delta, k),
					  SF_CALLOC_N(trial, k), SF_CALLOC_N(h, (size_t) k * (size_t) k), SF_CALLOC_N(out->coef, d)))
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for logistic regression");
		goto done;
	}
	if ((st = objective(env, rows, ctx, d, k, C, theta, &f)) != SF_OK)
		goto done;
	for (it = 0; it < p->max_iter; it++)
	{
		double		gmax = 0.0,
					slope = 0.0;
		int			moved;

		if (sf_interrupted(env))
		{
			st = sf_fail(env, SF_ECANCEL, "logreg training canceled");
			goto done;
		}
		if ((st = gradient_hessian(env, rows, ctx, d, k, C, theta, g, h)) != SF_OK)
			goto done;
		for (j = 0; j < k; j++)
			gmax = fmax(gmax, fabs(g[j]));
		out->iterations = it;
		if (gmax <= p->tol * fmax(1.0, C * (double) n))
		{
			out->converged = 1;
			break;
		}
		if ((st = newton_direction(env, h, g, d, k, C, n, delta)) != SF_OK)
			goto done;
		for (j = 0; j < k; j++)
			slope += g[j] * delta[j];
		if (0.5 * slope <= objective_noise(f, n))
		{
			/* the Newton decrement is below the objective's noise: the last step */
			if ((st = final_step(env, rows, ctx, d, k, C, n, delta, theta, trial, &f)) != SF_OK)
				goto done;
			moved = 0;
		}
		else if ((st = line_search(env, rows, ctx, d, k, C, slope, delta, theta, trial, &f,
								   &moved)) != SF_OK)
			goto done;
		out->iterations = it + 1;
		sf_progress_report(env, "iteration", it + 1, p->max_iter, 1, "objective", f, NAN);
		if (!moved)
		{
			/* no decrease possible at double precision: we are at the optimum */
			out->converged = 1;
			break;
		}
	}
	if (!isfinite(f))
	{
		st = sf_fail(env, SF_ENUMERIC, "logistic regression diverged");
		goto done;
	}
	out->n_features = (uint32_t) d;
	out->fit_intercept = p->fit_intercept;
	memcpy(out->coef, theta, sizeof(double) * d);
	out->intercept = k > d ? theta[d] : 0.0;
	out->objective = f;

done:
	sf_free_all(env, theta, g, h, delta, trial);
	if (st != SF_OK)
		logreg_free(env, out);
	return st;
}

void
logreg_free(sf_env *env, logreg_model *m)
{
	sf_free(env, m->coef);
	m->coef = NULL;
}

/*
 * The margin when the plain sum overflowed into inf - inf (a NaN from finite
 * inputs and coefficients): the same sum with the coefficients and the
 * inputs scaled by powers of two (exact) so no term overflows, scaled back
 * at the end (to +-inf when the margin is past the double range, which the
 * sigmoid takes to 0 or 1).  NaN only when an input is NaN.
 */
static double
logreg_margin_scaled(const logreg_model *m, const double *x)
{
	double		cmax = fabs(m->intercept),
				xmax = 1.0,
				s;
	int			ec,
				ex;
	uint32_t	j;

	for (j = 0; j < m->n_features; j++)
	{
		cmax = fmax(cmax, fabs(m->coef[j]));
		xmax = fmax(xmax, fabs(x[j]));
	}
	(void) frexp(cmax, &ec);
	(void) frexp(xmax, &ex);
	/* every term is now at most 1 in magnitude: the sum at most n + 1 */
	s = ldexp(m->intercept, -ec - ex);
	for (j = 0; j < m->n_features; j++)
		s += ldexp(m->coef[j], -ec) * ldexp(x[j], -ex);
	return ldexp(s, ec + ex);
}

double
logreg_predict(const logreg_model *m, const double *x)
{
	double		z = m->intercept;
	uint32_t	j;

	for (j = 0; j < m->n_features; j++)
		z += m->coef[j] * x[j];
	if (isnan(z))
		z = logreg_margin_scaled(m, x);
	return sigmoid(z);
}

static void
put_double(sf_buf *b, double v)
{
	char		t[40];
	int			n = snprintf(t, sizeof(t), "%.17g", v);

	sf_buf_put_bytes(b, t, (size_t) n);
}

/* {"intercept": x, "coef": [...]: the opening fields of the info and describe JSON, one printer. */
static void
put_coef_json(const logreg_model *m, sf_buf *b)
{
	uint32_t	j;

	sf_buf_put_bytes(b, "{\"intercept\": ", 14);
	put_double(b, m->intercept);
	sf_buf_put_bytes(b, ", \"coef\": [", 11);
	for (j = 0; j < m->n_features; j++)
	{
		if (j)
			sf_buf_put_bytes(b, ", ", 2);
		put_double(b, m->coef[j]);
	}
}

sf_status
logreg_encode(sf_env *env, const logreg_model *m, const logreg_params *p,
			  const char *const *names, uint64_t rows, sf_buf *b)
{
	size_t		mark;
	char		t[128];
	sf_prelude	pre = {.params_table = &logreg_params_table, .params = p, .names = names,
		.rows = rows};

	sf_prelude_put(b, SF_KIND_LOGREG, m->n_features, &pre);
	mark = sf_section_begin(b, SF_TAG_INFO);
	put_coef_json(m, b);
	snprintf(t, sizeof(t), "], \"iterations\": %d, \"converged\": %s, \"objective\": ",
			 m->iterations, m->converged ? "true" : "false");
	sf_buf_put_bytes(b, t, strlen(t));
	put_double(b, m->objective);
	sf_buf_put_bytes(b, "}", 1);
	sf_section_end(b, mark);
	/* body: u8 fit_intercept, f64 intercept, n_features x f64 coef */
	mark = sf_section_begin(b, LOGREG_TAG_COEF);
	sf_buf_put_u8(b, (uint8_t) m->fit_intercept);
	sf_buf_put_f64(b, m->intercept);
	sf_buf_put_f64s(b, m->coef, m->n_features);
	sf_section_end(b, mark);
	return sf_container_finish(b);
}

void
logreg_body_json(const logreg_model *m, sf_buf *b)
{
	/* the same printer as logreg_encode's info, so equal values print alike */
	put_coef_json(m, b);
	sf_buf_put_bytes(b, m->fit_intercept ? "], \"fit_intercept\": true}" : "], \"fit_intercept\": false}",
					 m->fit_intercept ? 25 : 26);
}

sf_status
logreg_decode(sf_env *env, const uint8_t *buf, size_t len, logreg_model *m)
{
	sf_container c;
	const sf_section *s;
	sf_reader	r;
	sf_status	st;
	uint32_t	j;

	memset(m, 0, sizeof(*m));
	if ((st = sf_container_decode_kind(env, buf, len, SF_KIND_LOGREG, &c)) != SF_OK)
		return st;
	if ((s = sf_container_find(&c, LOGREG_TAG_COEF)) == NULL)
		return sf_fail(env, SF_ECORRUPT, "corrupted logreg model: coefficient section missing");
	if (c.n_features < 1 || c.n_features > LOGREG_MAX_FEATURES ||
		s->len != 9 + 8 * (uint64_t) c.n_features)
		return sf_fail(env, SF_ECORRUPT, "corrupted logreg model: coefficient section of %llu bytes",
					   (unsigned long long) s->len);
	sf_reader_init(&r, s->data, s->len);
	m->fit_intercept = sf_read_u8(&r);
	m->intercept = sf_read_f64(&r);
	m->coef = sf_calloc(env, c.n_features, sizeof(double));
	if (m->coef == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a logreg model");
	sf_read_f64s(&r, m->coef, c.n_features);
	m->n_features = c.n_features;
	if (!sf_reader_ok(&r) || m->fit_intercept > 1 || !isfinite(m->intercept) ||
		(!m->fit_intercept && m->intercept != 0.0))
	{
		logreg_free(env, m);
		return sf_fail(env, SF_ECORRUPT, "corrupted logreg model: bad intercept");
	}
	for (j = 0; j < c.n_features; j++)
		if (!isfinite(m->coef[j]))
		{
			logreg_free(env, m);
			return sf_fail(env, SF_ECORRUPT, "corrupted logreg model: coefficient %u is not finite", j + 1);
		}
	return SF_OK;
}
