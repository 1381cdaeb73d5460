/*
 * quantreg_pk.c
 *	  Portnoy-Koenker preprocessing for large quantile regressions
 *	  (declared in quantreg.h; Portnoy and Koenker, "The Gaussian hare and
 *	  the Laplacian tortoise", Statistical Science 12(4), 1997; quantreg's
 *	  rq.fit.pfn; methods/qrgmm_scf.md section 3.4).
 *
 * Only the observations near the tau-th quantile hyperplane decide the
 * solution.  From a preliminary fit beta0 (the previous level's solution, or
 * a fit on a random subsample of m0 = (n (log p + 1))^(2/3) rows) we rank
 * the scaled residuals zeta_i = (y_i - x_i'beta0) / h_i, with
 * h_i = ||L^{-1} x_i|| (L L' = X'X), keep a band of M = 0.8 m0 ranks around
 * n tau, and fix the sign of every other observation: those far below get
 * a_i = 0, those far above a_i = 1.  Instead of quantreg's two "glob" rows
 * with a huge response we move the fixed rows into the right-hand side,
 * b = (1 - tau) X'1 - sum_{above} x_i, which is the same LP without the
 * huge number.  If the reduced solution gives every fixed row the assumed
 * residual sign, it is the full-data solution (its KKT conditions hold for
 * every row).  Otherwise the wrong-signed rows join the band and we
 * re-solve (at most 3 fixups of at most 0.1 M rows each); past that the
 * band doubles, and as a last resort the full problem is solved.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/quantreg.h"
#include "scfrisk/sf_blas.h"
#include "scfrisk/sf_rng.h"
#include "quantreg_int.h"

#define PK_MAX_FIXUPS		3
#define PK_MAX_DOUBLINGS	3

/* k-th smallest (0-based) of v[0..n) by quickselect; reorders v. */
static double
select_kth(double *v, size_t n, size_t k)
{
	size_t		lo = 0,
				hi = n - 1;

	while (hi > lo)
	{
		size_t		mid = lo + (hi - lo) / 2;
		double		pivot;
		size_t		i,
					j;

		/* median of three as pivot */
		if (v[mid] < v[lo])
		{
			double		t = v[mid];

			v[mid] = v[lo];
			v[lo] = t;
		}
		if (v[hi] < v[lo])
		{
			double		t = v[hi];

			v[hi] = v[lo];
			v[lo] = t;
		}
		if (v[hi] < v[mid])
		{
			double		t = v[hi];

			v[hi] = v[mid];
			v[mid] = t;
		}
		pivot = v[mid];
		i = lo;
		j = hi;
		while (i <= j)
		{
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
			{
				double		t = v[i];

				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];
	}
	return v[k];
}

sf_status
sf_qr_pk_prepare(sf_env *env, sf_qr_work *w, const double *X, int n, int p)
{
	double	   *L;
	int			i,
				j,
				k;

	if (n > w->n || p > w->p)
		return sf_fail(env, SF_EINVAL, "preprocessing of %d x %d exceeds its workspace", n, p);
	if (w->pk_h == NULL)
	{
		size_t		n_cap = (size_t) w->n;

		/* all or none: pk_h alone says whether the others are there */
		if (!sf_alloc_all(env, SF_MALLOC_N(w->pk_h, n_cap), SF_MALLOC_N(w->pk_X, n_cap * w->p),
						  SF_MALLOC_N(w->pk_y, n_cap), SF_MALLOC_N(w->pk_r, n_cap),
						  SF_MALLOC_N(w->pk_sorted, n_cap), SF_MALLOC_N(w->pk_state, n_cap)))
			return sf_fail(env, SF_ENOMEM, "out of memory for quantile-regression preprocessing");
	}
	/* L L' = X'X (reusing the solver's matrix) */
	L = w->M;
	sf_dgemm(1, 0, p, p, n, 1.0, X, p, X, p, 0.0, L, p);
	for (j = 0; j < p; j++)
	{
		double		d = L[j * p + j];

		for (k = 0; k < j; k++)
			d -= L[j * p + k] * L[j * p + k];
		if (!(d > 0.0))
			return sf_fail(env, SF_ENUMERIC, "the design matrix is singular");
		d = sqrt(d);
		L[j * p + j] = d;
		for (i = j + 1; i < p; i++)
		{
			double		v = L[i * p + j];

			for (k = 0; k < j; k++)
				v -= L[i * p + k] * L[j * p + k];
			L[i * p + j] = v / d;
		}
	}
	/* h_i = ||L^{-1} x_i|| by forward substitution */
	for (i = 0; i < n; i++)
	{
		const double *xi = X + (size_t) i * p;
		double		t[1024];
		double		ss = 0.0;

		for (j = 0; j < p && j < 1024; j++)
		{
			double		v = xi[j];

			for (k = 0; k < j; k++)
				v -= L[j * p + k] * t[k];
			t[j] = v / L[j * p + j];
			ss += t[j] * t[j];
		}
		w->pk_h[i] = sqrt(ss) + 1e-300;
	}
	w->pk_ready = n;
	return SF_OK;
}

/* residuals r = y - X beta into w->pk_r */
static void
residuals(sf_qr_work *w, const double *X, const double *y, int n, int p, const double *beta)
{
	int			i;

	sf_dgemv(0, n, p, -1.0, X, p, beta, 0.0, w->pk_r);
	for (i = 0; i < n; i++)
		w->pk_r[i] += y[i];
}

sf_status
sf_qr_solve_pk(sf_env *env, sf_qr_work *w, const double *X, const double *y,
			   int n, int p, double tau, const double *warm,
			   const sf_qr_options *opt, uint64_t rng_seed,
			   double *beta, sf_qr_info *info)
{
	double		m0d = pow((double) n * (log((double) p) + 1.0), 2.0 / 3.0);
	size_t		m0 = (size_t) m0d;
	double		bvec[1024];
	double		beta0[1024];
	sf_qr_info	sub;
	sf_status	st;
	int			doubling,
				i,
				j;
	int			total_iter = 0,
				rounds = 0;

	memset(info, 0, sizeof(*info));
	if (w->pk_ready != n || p > 1024)
		return sf_fail(env, SF_EINVAL, "quantile-regression preprocessing was not prepared for this design");
	if (m0 < (size_t) (5 * p))
		m0 = (size_t) (5 * p);
	if (m0 * 2 >= (size_t) n)
		return sf_qr_solve(env, w, X, y, n, p, tau, warm, opt, beta, info);

	/* preliminary fit: the warm start, or FN on a random subsample */
	if (warm != NULL)
		memcpy(beta0, warm, sizeof(double) * p);
	else
	{
		sf_rng		rng;
		size_t		k;

		sf_rng_init(&rng, rng_seed, 0x9b);
		for (k = 0; k < m0; k++)
		{
			size_t		r = (size_t) sf_rng_below(&rng, (uint64_t) n);

			memcpy(w->pk_X + k * p, X + r * p, sizeof(double) * p);
			w->pk_y[k] = y[r];
		}
		st = sf_qr_solve(env, w, w->pk_X, w->pk_y, (int) m0, p, tau, NULL, opt, beta0, &sub);
		if (st != SF_OK)
			return st;
		total_iter += sub.iterations;
	}

	/*
	 * A subsample start is rougher than a neighbouring level's solution:
	 * begin with the doubled band, which costs a reduced problem twice as
	 * large but saves most fixup rounds and fallbacks.
	 */
	for (doubling = warm != NULL ? 0 : 1; doubling <= PK_MAX_DOUBLINGS; doubling++)
	{
		double		M = 0.8 * (double) m0 * (double) (1 << doubling);
		double		lo_rank = floor((double) n * tau - M / 2.0);
		double		hi_rank = ceil((double) n * tau + M / 2.0);
		double		kl,
					kh;
		int			fixup;
		int			ok = 0;

		if (lo_rank < 1.0 && hi_rank > (double) n)
			break;				/* the band is the whole data: solve it plainly */
		residuals(w, X, y, n, p, beta0);
		for (i = 0; i < n; i++)
			w->pk_sorted[i] = w->pk_r[i] / w->pk_h[i];
		/* a band reaching past an end fixes no rows on that side */
		kl = lo_rank < 1.0 ? -INFINITY :
			select_kth(w->pk_sorted, (size_t) n, (size_t) lo_rank - 1);
		kh = hi_rank > (double) n ? INFINITY :
			select_kth(w->pk_sorted, (size_t) n, (size_t) hi_rank - 1);
		for (i = 0; i < n; i++)
		{
			double		z = w->pk_r[i] / w->pk_h[i];

			w->pk_state[i] = z < kl ? -1 : (z > kh ? 1 : 0);
		}

		for (fixup = 0; fixup <= PK_MAX_FIXUPS; fixup++)
		{
			int			nj = 0;
			int			wrong = 0;

			if (sf_interrupted(env))
				return sf_fail(env, SF_ECANCEL, "quantile regression canceled");
			/* reduced problem: band rows; b less the rows fixed above */
			for (j = 0; j < p; j++)
				bvec[j] = 0.0;
			for (i = 0; i < n; i++)
			{
				const double *xi = X + (size_t) i * p;

				for (j = 0; j < p; j++)
					bvec[j] += (1.0 - tau) * xi[j];
				if (w->pk_state[i] > 0)
					for (j = 0; j < p; j++)
						bvec[j] -= xi[j];
				else if (w->pk_state[i] == 0)
				{
					memcpy(w->pk_X + (size_t) nj * p, xi, sizeof(double) * p);
					w->pk_y[nj] = y[i];
					nj++;
				}
			}
			if (nj <= p)
				break;
			st = sf_qr_solve_b(env, w, w->pk_X, w->pk_y, nj, p, tau, bvec, beta0, opt, beta, &sub);
			total_iter += sub.iterations;
			rounds++;
			if (st == SF_ECANCEL)
				return st;
			if (st != SF_OK || !sub.converged)
				break;
			info->gap = sub.gap;
			info->pk_rows = nj;
			/* sign check of every fixed row */
			residuals(w, X, y, n, p, beta);
			for (i = 0; i < n; i++)
				if ((w->pk_state[i] < 0 && w->pk_r[i] > 0.0) ||
					(w->pk_state[i] > 0 && w->pk_r[i] < 0.0))
					wrong++;
			if (wrong == 0)
			{
				ok = 1;
				break;
			}
			if ((double) wrong > 0.1 * M)
				break;
			for (i = 0; i < n; i++)
				if ((w->pk_state[i] < 0 && w->pk_r[i] > 0.0) ||
					(w->pk_state[i] > 0 && w->pk_r[i] < 0.0))
					w->pk_state[i] = 0;
			memcpy(beta0, beta, sizeof(double) * p);
		}
		if (ok)
		{
			info->iterations = total_iter;
			info->converged = 1;
			info->pk_rounds = rounds;
			return SF_OK;
		}
	}
	/* last resort: the whole problem */
	st = sf_qr_solve(env, w, X, y, n, p, tau, warm, opt, beta, info);
	info->iterations += total_iter;
	info->pk_rounds = rounds;
	return st;
}
