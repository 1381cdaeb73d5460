/*
 * quantreg.h
 *	  Linear quantile regression: min_b sum_i rho_tau(y_i - x_i'b), solved
 *	  exactly (to a duality-gap tolerance) by the Frisch-Newton primal-dual
 *	  interior point method with Mehrotra's predictor-corrector on the
 *	  bounded-dual LP of quantreg's rqfnb (methods/qrgmm_scf.md section 3.3).
 *
 * The design is row-major (n, p).  Callers that fit many levels standardise
 * the design once (sf_qr_standardize), check it for constant and collinear
 * columns (sf_qr_check_rank: Cholesky of the correlation matrix with a
 * relative pivot threshold),
 * then call sf_qr_solve per level with the previous level's solution as warm
 * start, reusing one workspace.  Large n goes through Portnoy-Koenker
 * preprocessing (sf_qr_pk_prepare once per design, then sf_qr_solve_pk).
 */
#ifndef SCFRISK_QUANTREG_H
#define SCFRISK_QUANTREG_H

#include "scfrisk/sf_core.h"

#define SF_QR_DEFAULT_EPS		1e-10	/* relative duality gap */
#define SF_QR_MIN_EPS			1e-14
#define SF_QR_MAX_EPS			1e-3
#define SF_QR_DEFAULT_MAX_ITER	100
#define SF_QR_MIN_MAX_ITER		5
#define SF_QR_MAX_MAX_ITER		1000
#define SF_QR_STEP				0.99995	/* fraction to the boundary (quantreg's beta) */

/* Solver settings (user-visible through qrgmm_train's params). */
typedef struct sf_qr_options
{
	double		eps;			/* stop when gap / (1 + |objective|) < eps */
	int			max_iter;		/* interior-point iterations per level */
} sf_qr_options;

/* What one solve did. */
typedef struct sf_qr_info
{
	int			iterations;		/* interior-point iterations (summed over PK rounds) */
	double		gap;			/* final relative duality gap */
	int			converged;		/* 1 when the gap fell below eps */
	int			pk_rounds;		/* Portnoy-Koenker solves (0 when not used) */
	int			pk_rows;		/* rows of the last reduced problem (0 when not used) */
} sf_qr_info;

/* Scratch of one solver: vectors of length n and p x p matrices. */
typedef struct sf_qr_work sf_qr_work;

/* Workspace for problems of up to n rows and p columns; NULL on ENOMEM. */
extern sf_status sf_qr_work_new(sf_env *env, int n, int p, sf_qr_work **out);
extern void sf_qr_work_free(sf_env *env, sf_qr_work *w);

/*
 * Solve one level.  X is (n, p) row-major, y is (n), tau in (0, 1), warm (p)
 * a starting coefficient vector or NULL, beta (p) receives the solution.
 * n and p must not exceed the workspace's.  Returns SF_ENUMERIC when the
 * normal equations are singular, SF_ECANCEL on interrupt.  Not converging
 * within max_iter is not an error: info->converged says so.
 */
extern sf_status sf_qr_solve(sf_env *env, sf_qr_work *w, const double *X, const double *y,
							 int n, int p, double tau, const double *warm,
							 const sf_qr_options *opt, double *beta, sf_qr_info *info);

/*
 * Prepare preprocessing for the design X (n, p): the row scales h_i =
 * ||L^{-1} x_i|| with L L' = X'X.  Call once per design before
 * sf_qr_solve_pk; w must be sized for (n, p).
 */
extern sf_status sf_qr_pk_prepare(sf_env *env, sf_qr_work *w, const double *X, int n, int p);

/*
 * The problem of sf_qr_solve through Portnoy-Koenker preprocessing: the
 * same (full-data) solution, from a reduced problem of about
 * 0.8 (n (log p + 1))^(2/3) rows around the quantile plus sign checks.
 * Falls back to the whole data when the band keeps failing.  rng_seed
 * draws the initial subsample when warm is NULL.
 */
extern sf_status sf_qr_solve_pk(sf_env *env, sf_qr_work *w, const double *X, const double *y,
								int n, int p, double tau, const double *warm,
								const sf_qr_options *opt, uint64_t rng_seed,
								double *beta, sf_qr_info *info);

/* sum_i rho_tau(y_i - x_i'beta) for X (n, p), y (n), beta (p). */
extern double sf_qr_objective(const double *X, const double *y, int n, int p, double tau,
							  const double *beta);

/*
 * Standardise columns 1..p-1 of X in place (column 0 is the intercept of
 * ones and is left alone): x <- (x - center) / scale, with center the mean
 * and scale the standard deviation.  center and scale are (p) (entry 0 is 0
 * and 1).  Returns SF_EDATA naming the first constant column (1-based,
 * counting the intercept as 0) in env->msg and *bad_col.
 */
extern sf_status sf_qr_standardize(sf_env *env, double *X, int n, int p, double *center,
								   double *scale, int *bad_col);

/*
 * Rank check of a standardised design by Cholesky of X'X / n with pivots
 * taken in column order: a column whose pivot falls below tol times the
 * largest diagonal is a linear combination of the columns before it:
 * SF_EDATA with its index in *bad_col (0-based column of X).
 */
extern sf_status sf_qr_check_rank(sf_env *env, const double *X, int n, int p, double tol,
								  int *bad_col);

/*
 * Map standardised-scale coefficients back: for a design standardised with
 * (center, scale) and a response y = y_center + y_scale * ys, beta (p) on
 * the standardised scale becomes the coefficient of the raw columns.
 */
extern void sf_qr_unstandardize(int p, const double *center, const double *scale,
								double y_center, double y_scale, double *beta);

#endif							/* SCFRISK_QUANTREG_H */
