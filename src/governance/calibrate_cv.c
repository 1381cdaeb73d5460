/*
 * calibrate_cv.c
 *	  Calibration as a training step ("calibrate": "platt" | "isotonic"):
 *	  the map is fitted on out-of-fold scores of the training rows.
 *
 * A model's own training rows score too well in sample (a forest's leaves
 * hold the very rows they score, a network has fit them), so a map fitted on
 * those scores would learn the model's overfit, not its calibration.  As
 * scikit-learn's CalibratedClassifierCV(ensemble=False) does, each row is
 * scored by a model trained without its fold, the map is fitted on those
 * out-of-fold scores, and the caller keeps the model trained on every row.
 * The fold of a row is the content hash of cross-validation (cv.h, seed 0),
 * so the folds depend neither on the scan order nor on the plan, and SQL
 * reproduces them with scfrisk.row_fold(features, label, folds).
 */
#include <math.h>
#include <string.h>

#include "scfrisk/cv.h"
#include "scfrisk/sf_governance.h"

const char *const sf_calib_choices[] = {"none", "platt", "isotonic", NULL};

double
sf_calib_margin(double p)
{
	double		f = log(p) - log1p(-p);

	if (isnan(f))
		return f;
	if (f > SF_CALIB_MAX_MARGIN)
		return SF_CALIB_MAX_MARGIN;
	if (f < -SF_CALIB_MAX_MARGIN)
		return -SF_CALIB_MAX_MARGIN;
	return f;
}

/* Copy the rows of x, y whose fold is (in ? k : not k) into xo, yo; returns their count. */
static size_t
take_rows(const double *x, const double *y, const int *fold, size_t n, uint32_t p, int k, int in,
		  double *xo, double *yo)
{
	size_t		i,
				m = 0;

	for (i = 0; i < n; i++)
		if ((fold[i] == k) == in)
		{
			memcpy(xo + m * p, x + i * p, sizeof(double) * p);
			if (yo)
				yo[m] = y[i];
			m++;
		}
	return m;
}

/* Fold k needs held-out rows, and training rows of both classes. */
static sf_status
check_fold(sf_env *env, const double *yt, size_t nt, size_t ns, int k, int folds)
{
	size_t		i;
	double		n1 = 0.0;

	for (i = 0; i < nt; i++)
		n1 += yt[i];
	if (ns == 0)
		return sf_fail(env, SF_EDATA, "calibrate: fold %d of %d holds no row; use fewer "
					   "calibrate_folds or more rows", k + 1, folds);
	if (n1 == 0.0 || n1 == (double) nt)
		return sf_fail(env, SF_EDATA, "calibrate: the rows outside fold %d of %d hold one class "
					   "only; use fewer calibrate_folds or more rows of each class", k + 1, folds);
	return SF_OK;
}

sf_status
sf_calib_fit_oof(sf_env *env, const double *x, const double *y, size_t n, uint32_t p, int method,
				 int folds, sf_calib_fold_fn fit, void *ctx, sf_calib *out)
{
	int		   *fold = sf_malloc(env, sizeof(int) * (n ? n : 1));
	double	   *xt = sf_malloc(env, sizeof(double) * (n ? n : 1) * p);
	double	   *yt = sf_malloc(env, sizeof(double) * (n ? n : 1));
	double	   *xs = sf_malloc(env, sizeof(double) * (n ? n : 1) * p);
	double	   *prob = sf_malloc(env, sizeof(double) * (n ? n : 1));
	double	   *f = sf_malloc(env, sizeof(double) * (n ? n : 1));
	sf_status	st = SF_OK;
	size_t		i;
	int			k;

	memset(out, 0, sizeof(*out));
	if (!fold || !xt || !yt || !xs || !prob || !f)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory for the out-of-fold scores of calibrate");
		goto done;
	}
	if (method != SF_CALIB_PLATT && method != SF_CALIB_ISOTONIC)
	{
		st = sf_fail(env, SF_EINVAL, "calibrate: unknown method %d", method);
		goto done;
	}
	for (i = 0; i < n; i++)
		fold[i] = sf_cv_row_fold(x + i * p, p, y[i], folds, 0);
	for (k = 0; k < folds && st == SF_OK; k++)
	{
		size_t		nt = take_rows(x, y, fold, n, p, k, 0, xt, yt),
					ns = take_rows(x, y, fold, n, p, k, 1, xs, NULL),
					j = 0;

		if (sf_interrupted(env))
			st = sf_fail(env, SF_ECANCEL, "canceled");
		if (st == SF_OK)
			st = check_fold(env, yt, nt, ns, k, folds);
		if (st == SF_OK)
			st = fit(ctx, env, xt, yt, nt, xs, ns, prob);
		/* back to the rows' places, in the order take_rows took them */
		for (i = 0; st == SF_OK && i < n; i++)
			if (fold[i] == k)
				f[i] = sf_calib_margin(prob[j++]);
	}
	if (st == SF_OK)
		st = method == SF_CALIB_PLATT ? sf_calib_fit_platt(env, f, y, n, out)
			: sf_calib_fit_isotonic(env, f, y, n, out);
done:
	sf_free_all(env, fold, xt, yt, xs, prob, f);
	return st;
}
