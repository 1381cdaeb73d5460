/*
 * quantreg.c
 *	  Frisch-Newton interior point for linear quantile regression, with
 *	  Mehrotra's predictor-corrector (declared in quantreg.h).
 *
 * The LP is quantreg's bounded-dual form (Koenker's rqfnb; Portnoy and
 * Koenker, Statistical Science 1997):
 *
 *	  min c'a  s.t.  X'a = b,  0 <= a <= 1,  c = -y,  b = (1 - tau) X'1,
 *
 * with slack s = 1 - a, dual lambda (p) and dual slacks z, w >= 0 so that
 * X lambda + z - w = c.  The quantile-regression coefficients are
 * beta = -lambda; at the optimum y - X beta = w - z.  Each iteration forms
 * M = X' D X with D = 1 / (z/a + w/s), factors it by Cholesky, and solves
 * twice with the same factor: the affine-scaling predictor and the centred
 * corrector (Mehrotra 1992), with the centring parameter
 * mu = (g_aff / g)^3 g / (2n) and a fraction-to-boundary step of 0.99995
 * (methods/qrgmm_scf.md section 3.3).  The start a = (1 - tau) 1 is
 * primal-feasible; the dual start is least squares or the warm start.
 *
 * Stopping rule: relative gap (a'z + s'w) / (1 + |c'a|) below eps together
 * with small primal and dual residuals.  The design should be standardised
 * (sf_qr_standardize) so that the tolerances mean the same on every data set.
 *
 * M = X' D X is the O(n p^2) part and goes through sf_dgemm on sqrt(D) X.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/quantreg.h"
#include "scfrisk/sf_blas.h"
#include "quantreg_int.h"


sf_status
sf_qr_work_new(sf_env *env, int n, int p, sf_qr_work **out)
{
	sf_qr_work *w;
	size_t		nn = (size_t) (n > 0 ? n : 1);
	size_t		np;

	*out = NULL;
	if (n < 1 || p < 1)
		return sf_fail(env, SF_EINVAL, "quantile regression needs n >= 1 and p >= 1");
	if (!sf_mul_size(nn, (size_t) p, &np))
		return sf_fail(env, SF_ELIMIT, "design of %d x %d is too large", n, p);
	w = sf_calloc(env, 1, sizeof(*w));
	if (w == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the quantile-regression workspace");
	w->n = n;
	w->p = p;
	if (!sf_alloc_all(env, SF_MALLOC_N(w->a, nn), SF_MALLOC_N(w->s, nn), SF_MALLOC_N(w->z, nn),
					  SF_MALLOC_N(w->w, nn), SF_MALLOC_N(w->da, nn), SF_MALLOC_N(w->dz, nn),
					  SF_MALLOC_N(w->dw, nn), SF_MALLOC_N(w->rd, nn), SF_MALLOC_N(w->rho, nn),
					  SF_MALLOC_N(w->D, nn), SF_MALLOC_N(w->t1, nn), SF_CALLOC_N(w->Xd, np),
					  SF_MALLOC_N(w->M, (size_t) p * p), SF_MALLOC_N(w->lam, p), SF_MALLOC_N(w->dlam, p),
					  SF_MALLOC_N(w->rp, p), SF_MALLOC_N(w->rhs, p), SF_MALLOC_N(w->b, p)))
	{
		sf_qr_work_free(env, w);
		return sf_fail(env, SF_ENOMEM, "out of memory for a quantile regression of %d x %d", n, p);
	}
	*out = w;
	return SF_OK;
}

void
sf_qr_work_free(sf_env *env, sf_qr_work *w)
{
	if (w == NULL)
		return;
	sf_free_all(env, w->a, w->s, w->z, w->w, w->da, w->dz, w->dw, w->rd, w->rho, w->D, w->t1, w->Xd,
				w->M, w->lam, w->dlam, w->rp, w->rhs, w->b, w->pk_h, w->pk_X, w->pk_y, w->pk_r,
				w->pk_sorted, w->pk_state, w);
}

/* ------------------------------------------------------------ small dense */

/*
 * Form M = X' diag(D) X (D NULL: X'X) and factor it, adding a small ridge
 * when round-off makes it indefinite.  Returns 0 or -1 (singular).
 */
static int
form_and_factor(sf_qr_work *w, const double *X, int n, int p, const double *D)
{
	double		trace = 0.0;
	int			i,
				j,
				attempt;

	for (i = 0; i < n; i++)
	{
		double		sd = D ? sqrt(D[i]) : 1.0;
		const double *xi = X + (size_t) i * p;
		double	   *di = w->Xd + (size_t) i * p;

		for (j = 0; j < p; j++)
			di[j] = sd * xi[j];
	}
	for (attempt = 0; attempt < 4; attempt++)
	{
		sf_dgemm(1, 0, p, p, n, 1.0, w->Xd, p, w->Xd, p, 0.0, w->M, p);
		if (attempt == 0)
			for (j = 0; j < p; j++)
				trace += w->M[j * p + j];
		else
			for (j = 0; j < p; j++)
				w->M[j * p + j] += trace * pow(10.0, -14.0 + 2.0 * attempt) / p;
		if (sf_cholesky(w->M, p) == 0)
			return 0;
	}
	return -1;
}

/* alpha = min(1, step * min over dx<0 of -x/dx, same for y/dy) */
static double
step_length(const double *x, const double *dx, const double *y, const double *dy, int n)
{
	double		t = 1.0 / SF_QR_STEP;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (dx[i] < 0.0 && x[i] < -t * dx[i])
			t = -x[i] / dx[i];
		if (dy[i] < 0.0 && y[i] < -t * dy[i])
			t = -y[i] / dy[i];
	}
	t *= SF_QR_STEP;
	return t > 1.0 ? 1.0 : t;
}

double
sf_qr_objective(const double *X, const double *y, int n, int p, double tau,
				const double *beta)
{
	double		total = 0.0;
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		double		r = y[i];

		for (j = 0; j < p; j++)
			r -= X[(size_t) i * p + j] * beta[j];
		total += r >= 0.0 ? tau * r : (tau - 1.0) * r;
	}
	return total;
}

static double
norm_inf(const double *v, int n)
{
	double		m = 0.0;
	int			i;

	for (i = 0; i < n; i++)
		if (fabs(v[i]) > m)
			m = fabs(v[i]);
	return m;
}

/*
 * Solve the reduced system for one right-hand side: given rho (n) and
 * r_p (p) in w, dlam = M^{-1} (r_p + X'(D rho)), da = D (X dlam - rho).
 */
static void
newton_direction(sf_qr_work *w, const double *X, int n, int p)
{
	int			i;

	for (i = 0; i < n; i++)
		w->t1[i] = w->D[i] * w->rho[i];
	sf_dgemv(1, n, p, 1.0, X, p, w->t1, 0.0, w->dlam);
	for (i = 0; i < p; i++)
		w->dlam[i] += w->rp[i];
	sf_cholesky_solve(w->M, p, w->dlam);
	sf_dgemv(0, n, p, 1.0, X, p, w->dlam, 0.0, w->t1);
	for (i = 0; i < n; i++)
		w->da[i] = w->D[i] * (w->t1[i] - w->rho[i]);
}

sf_status
sf_qr_solve(sf_env *env, sf_qr_work *w, const double *X, const double *y,
			int n, int p, double tau, const double *warm,
			const sf_qr_options *opt, double *beta, sf_qr_info *info)
{
	return sf_qr_solve_b(env, w, X, y, n, p, tau, NULL, warm, opt, beta, info);
}

/*
 * The starting point: b = (1 - tau) X'1 unless given; the dual lambda from
 * least squares (X'X)^{-1} X'c, c = -y, or the warm start; the primal a at
 * 1 - tau (or the band rows' average b[0] / n with a reduced right-hand
 * side) and z - w = c - X lambda with a margin delta for centrality.
 * *bnorm and *cnorm get |b|_inf and |c|_inf for the convergence test.
 */
static sf_status
ip_start(sf_env *env, sf_qr_work *w, const double *X, const double *y, int n, int p, double tau,
		 const double *bvec, const double *warm, double *bnorm, double *cnorm)
{
	double		a0,
				delta;
	int			i,
				j;

	if (bvec != NULL)
		memcpy(w->b, bvec, sizeof(double) * p);
	else
	{
		for (i = 0; i < n; i++)
			w->t1[i] = 1.0 - tau;
		sf_dgemv(1, n, p, 1.0, X, p, w->t1, 0.0, w->b);
	}
	*bnorm = norm_inf(w->b, p);
	*cnorm = norm_inf(y, n);

	if (warm != NULL)
	{
		for (j = 0; j < p; j++)
			w->lam[j] = -warm[j];
	}
	else
	{
		if (form_and_factor(w, X, n, p, NULL) != 0)
			return sf_fail(env, SF_ENUMERIC, "the design matrix is singular");
		sf_dgemv(1, n, p, -1.0, X, p, y, 0.0, w->lam);
		sf_cholesky_solve(w->M, p, w->lam);
	}
	sf_dgemv(0, n, p, 1.0, X, p, w->lam, 0.0, w->t1);
	delta = 0.0;
	for (i = 0; i < n; i++)
		delta += fabs(-y[i] - w->t1[i]);
	delta = 0.1 * (delta / n) + 1e-6;
	/*
	 * Primal start: a = 1 - tau is feasible for the plain problem.  With a
	 * reduced right-hand side (preprocessing; column 0 is the intercept) the
	 * band rows must average b[0] / n instead: start there.
	 */
	a0 = 1.0 - tau;
	if (bvec != NULL)
	{
		a0 = bvec[0] / n;
		if (!(a0 > 0.01))
			a0 = 0.01;
		if (a0 > 0.99)
			a0 = 0.99;
	}
	for (i = 0; i < n; i++)
	{
		double		r = -y[i] - w->t1[i];

		w->a[i] = a0;
		w->s[i] = 1.0 - a0;
		w->z[i] = (r > 0.0 ? r : 0.0) + delta;
		w->w[i] = (r < 0.0 ? -r : 0.0) + delta;
	}
	return SF_OK;
}

/*
 * The residuals r_p = b - X'a and r_d = c - X lambda - z + w, and the
 * duality gap relative to the primal objective: the convergence measure.
 */
static double
ip_residuals(sf_qr_work *w, const double *X, const double *y, int n, int p, double *gap_out)
{
	double		gap = 0.0,
				ca = 0.0;
	int			i,
				j;

	sf_dgemv(1, n, p, -1.0, X, p, w->a, 0.0, w->rp);
	for (j = 0; j < p; j++)
		w->rp[j] += w->b[j];
	sf_dgemv(0, n, p, 1.0, X, p, w->lam, 0.0, w->t1);
	for (i = 0; i < n; i++)
	{
		w->rd[i] = -y[i] - w->t1[i] - w->z[i] + w->w[i];
		gap += w->a[i] * w->z[i] + w->s[i] * w->w[i];
		ca -= y[i] * w->a[i];
	}
	*gap_out = gap;
	return gap / (1.0 + fabs(ca));
}

/*
 * One Mehrotra predictor-corrector step from the current point (residuals
 * in w->rp, w->rd and the gap computed): the affine direction, the
 * centring parameter mu from it, the corrected direction, and the step
 * lengths that keep every variable positive.
 */
static sf_status
ip_step(sf_env *env, sf_qr_work *w, const double *X, int n, int p, double gap, int it)
{
	double	   *a = w->a,
			   *s = w->s,
			   *z = w->z,
			   *dv = w->w;
	double		aP,
				aD,
				gaff,
				mu;
	int			i,
				j;

	/* D and the factor of X'DX */
	for (i = 0; i < n; i++)
		w->D[i] = 1.0 / (z[i] / a[i] + dv[i] / s[i]);
	if (form_and_factor(w, X, n, p, w->D) != 0)
		return sf_fail(env, SF_ENUMERIC,
					   "the normal equations of the interior point became singular at iteration %d",
					   it + 1);

	/* predictor: r_az = -a z, r_sw = -s w, so rho = r_d + z - w */
	for (i = 0; i < n; i++)
		w->rho[i] = w->rd[i] + z[i] - dv[i];
	newton_direction(w, X, n, p);
	for (i = 0; i < n; i++)
	{
		w->dz[i] = -z[i] - z[i] * w->da[i] / a[i];
		w->dw[i] = -dv[i] + dv[i] * w->da[i] / s[i];
		w->t1[i] = -w->da[i];	/* ds */
	}
	aP = fmin(step_length(a, w->da, s, w->t1, n), 1.0);
	aD = step_length(z, w->dz, dv, w->dw, n);
	gaff = 0.0;
	for (i = 0; i < n; i++)
		gaff += (a[i] + aP * w->da[i]) * (z[i] + aD * w->dz[i]) +
			(s[i] - aP * w->da[i]) * (dv[i] + aD * w->dw[i]);
	mu = (gaff / gap) * (gaff / gap) * (gaff / gap) * gap / (2.0 * n);

	/*
	 * corrector: r_az = mu - a z - da dz, r_sw = mu - s w - ds dw with the
	 * affine directions; rho = r_d - r_az / a + r_sw / s.  dz and dw are
	 * reused to hold r_az and r_sw.
	 */
	for (i = 0; i < n; i++)
	{
		double		raz = mu - a[i] * z[i] - w->da[i] * w->dz[i];
		double		rsw = mu - s[i] * dv[i] + w->da[i] * w->dw[i];

		w->dz[i] = raz;
		w->dw[i] = rsw;
		w->rho[i] = w->rd[i] - raz / a[i] + rsw / s[i];
	}
	newton_direction(w, X, n, p);
	for (i = 0; i < n; i++)
	{
		w->dz[i] = (w->dz[i] - z[i] * w->da[i]) / a[i];
		w->dw[i] = (w->dw[i] + dv[i] * w->da[i]) / s[i];
		w->t1[i] = -w->da[i];
	}
	aP = step_length(a, w->da, s, w->t1, n);
	aD = step_length(z, w->dz, dv, w->dw, n);
	for (i = 0; i < n; i++)
	{
		a[i] += aP * w->da[i];
		s[i] -= aP * w->da[i];
		z[i] += aD * w->dz[i];
		dv[i] += aD * w->dw[i];
	}
	for (j = 0; j < p; j++)
		w->lam[j] += aD * w->dlam[j];
	return SF_OK;
}

sf_status
sf_qr_solve_b(sf_env *env, sf_qr_work *w, const double *X, const double *y,
			  int n, int p, double tau, const double *bvec, const double *warm,
			  const sf_qr_options *opt, double *beta, sf_qr_info *info)
{
	double		bnorm,
				cnorm,
				gap = 0.0,
				rel = INFINITY;
	int			j,
				it;
	sf_status	st;

	memset(info, 0, sizeof(*info));
	if (n > w->n || p > w->p || n < 1 || p < 1)
		return sf_fail(env, SF_EINVAL, "quantile regression of %d x %d exceeds its workspace", n, p);
	if (!(tau > 0.0 && tau < 1.0))
		return sf_fail(env, SF_EINVAL, "quantile level %g is not in (0, 1)", tau);
	if ((st = ip_start(env, w, X, y, n, p, tau, bvec, warm, &bnorm, &cnorm)) != SF_OK)
		return st;
	for (it = 0; it < opt->max_iter; it++)
	{
		if (sf_interrupted(env))
			return sf_fail(env, SF_ECANCEL, "quantile regression canceled");
		rel = ip_residuals(w, X, y, n, p, &gap);
		if (rel < opt->eps &&
			norm_inf(w->rp, p) <= 1e-9 * (1.0 + bnorm) &&
			norm_inf(w->rd, n) <= 1e-9 * (1.0 + cnorm))
		{
			info->converged = 1;
			break;
		}
		if ((st = ip_step(env, w, X, n, p, gap, it)) != SF_OK)
			return st;
	}
	info->iterations = it;
	info->gap = rel;
	for (j = 0; j < p; j++)
	{
		beta[j] = -w->lam[j];
		if (!isfinite(beta[j]))
			return sf_fail(env, SF_ENUMERIC, "the interior point diverged at level %g", tau);
	}
	return SF_OK;
}

/* ------------------------------------------------------------ design checks */

sf_status
sf_qr_standardize(sf_env *env, double *X, int n, int p, double *center,
				  double *scale, int *bad_col)
{
	int			i,
				j;

	*bad_col = -1;
	center[0] = 0.0;
	scale[0] = 1.0;
	for (j = 1; j < p; j++)
	{
		double		mean = 0.0,
					ss = 0.0,
					amax = 0.0;

		for (i = 0; i < n; i++)
			mean += X[(size_t) i * p + j];
		mean /= n;
		for (i = 0; i < n; i++)
		{
			double		d = X[(size_t) i * p + j] - mean;

			ss += d * d;
			if (fabs(X[(size_t) i * p + j]) > amax)
				amax = fabs(X[(size_t) i * p + j]);
		}
		ss = sqrt(ss / n);
		if (!(ss > 1e-12 * amax) || !isfinite(ss))
		{
			*bad_col = j;
			return sf_fail(env, SF_EDATA, "design column %d is constant", j);
		}
		center[j] = mean;
		scale[j] = ss;
		for (i = 0; i < n; i++)
			X[(size_t) i * p + j] = (X[(size_t) i * p + j] - mean) / ss;
	}
	return SF_OK;
}

sf_status
sf_qr_check_rank(sf_env *env, const double *X, int n, int p, double tol, int *bad_col)
{
	double	   *G;
	int		   *perm;
	double		dmax = 0.0;
	int			i,
				j,
				k;
	sf_status	st = SF_OK;

	*bad_col = -1;
	G = sf_calloc(env, (size_t) p * p, sizeof(double));
	perm = sf_calloc(env, (size_t) p, sizeof(int));
	if (G == NULL || perm == NULL)
	{
		sf_free(env, G);
		sf_free(env, perm);
		return sf_fail(env, SF_ENOMEM, "out of memory checking the design rank");
	}
	sf_dgemm(1, 0, p, p, n, 1.0 / n, X, p, X, p, 0.0, G, p);
	for (j = 0; j < p; j++)
	{
		perm[j] = j;
		if (G[j * p + j] > dmax)
			dmax = G[j * p + j];
	}
	/*
	 * Outer-product Cholesky with the pivot taken in column order: a column
	 * whose remaining pivot falls below tol * max diag is (numerically) a
	 * combination of the columns before it.  Taking pivots in order rather
	 * than by size reports the later column of a duplicate pair, which is
	 * what a user expects to drop.
	 */
	for (k = 0; k < p; k++)
	{
		double		d;

		if (!(G[k * p + k] > tol * dmax))
		{
			*bad_col = perm[k];
			st = sf_fail(env, SF_EDATA,
						 "design column %d is a linear combination of the other columns (collinear or duplicate)",
						 perm[k]);
			break;
		}
		d = sqrt(G[k * p + k]);
		for (i = k + 1; i < p; i++)
			G[i * p + k] /= d;
		for (i = k + 1; i < p; i++)
			for (j = k + 1; j <= i; j++)
			{
				G[i * p + j] -= G[i * p + k] * G[j * p + k];
				G[j * p + i] = G[i * p + j];
			}
	}
	sf_free(env, G);
	sf_free(env, perm);
	return st;
}

void
sf_qr_unstandardize(int p, const double *center, const double *scale,
					double y_center, double y_scale, double *beta)
{
	double		shift = 0.0;
	int			j;

	for (j = 1; j < p; j++)
	{
		beta[j] = y_scale * beta[j] / scale[j];
		shift += beta[j] * center[j];
	}
	beta[0] = y_scale * beta[0] + y_center - shift;
}
