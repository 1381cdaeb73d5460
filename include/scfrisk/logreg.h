/*
 * logreg.h
 *	  L2-regularised logistic regression (kind SF_KIND_LOGREG), fitted by
 *	  Newton's method with a backtracking line search.
 *
 * Objective, as scikit-learn's LogisticRegression(penalty="l2", C=C):
 *	  0.5 ||w||^2 + C * sum_i logloss(y_i, sigmoid(x_i . w + b))
 * The intercept b is not penalised.  Inputs are used as given (no
 * standardisation), so coefficients compare directly with scikit-learn's.
 */
#ifndef SCFRISK_LOGREG_H
#define SCFRISK_LOGREG_H

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_params.h"

#define LOGREG_FORMAT_VERSION	1
#define LOGREG_TAG_COEF		SF_TAG_BODY	/* coefficients section */
#define LOGREG_MAX_FEATURES	2048	/* the Newton system is (d + 1)^2 doubles */

typedef struct logreg_params
{
	double		C;				/* inverse regularisation strength (> 0) */
	int			fit_intercept;	/* learn an unpenalised intercept */
	int			max_iter;		/* Newton iterations */
	double		tol;			/* stop when max |gradient| <= tol * max(1, C n) */
	sf_str_list feature_names;	/* optional names, one per feature */
	int			verbose;		/* report each iteration (env->progress); not stored */
	int			calibrate;		/* SF_CALIB_* fitted on out-of-fold scores; not in the JSON */
	int			calibrate_folds;
} logreg_params;

extern const sf_param_table logreg_params_table;

typedef struct logreg_model
{
	uint32_t	n_features;		/* input width */
	int			fit_intercept;	/* 1 when intercept is learned */
	double		intercept;		/* b (0 without an intercept) */
	double	   *coef;			/* (n_features) w, owned */
	/* diagnostics (SF_TAG_INFO) */
	int			iterations;		/* Newton iterations run */
	int			converged;		/* gradient tolerance reached */
	double		objective;		/* final objective value */
} logreg_model;

/*
 * Fit on x (n, d) row-major, all finite, and labels y (n) in {0, 1} with both
 * classes present.  *out is filled (free with logreg_free).
 */
extern sf_status logreg_fit(sf_env *env, const logreg_params *p, const double *x,
							const double *y, size_t n, int d, logreg_model *out);
extern void logreg_free(sf_env *env, logreg_model *m);

/*
 * Where logreg_fit_sums gets the rows' sums at theta (d coefficients, then
 * the intercept when k = d + 1): loss sets *l to sum_i log(1 + e^z_i) -
 * y_i z_i; grad_hess adds C X~'(p - y) to g (k) and C X~'DX~ to the lower
 * triangle of h (k, k).  logreg_fit's are logreg_loss and logreg_grad_hess
 * on its rows; the sharded trainer's ask every shard (logreg_dist.h).
 */
typedef struct logreg_sums
{
	sf_status	(*loss) (sf_env *env, void *ctx, const double *theta, int d, int k, double *l);
	sf_status	(*grad_hess) (sf_env *env, void *ctx, const double *theta, int d, int k, double C,
							  double *g, double *h);
} logreg_sums;

/*
 * logreg_fit's Newton iterations on n rows of width d whose sums come from
 * rows (checked by the caller: logreg_check_shape, logreg_check_labels,
 * logreg_check_classes).
 */
extern sf_status logreg_fit_sums(sf_env *env, const logreg_params *p, size_t n, int d,
								 const logreg_sums *rows, void *ctx, logreg_model *out);
extern double logreg_loss(const double *x, const double *y, size_t n, int d, int k,
						  const double *theta);
extern void logreg_grad_hess(const double *x, const double *y, size_t n, int d, int k, double C,
							 const double *theta, double *g, double *h);

/* logreg_fit's checks of its rows, in parts a shard and a coordinator can each run. */
extern sf_status logreg_check_shape(sf_env *env, size_t n, int d);
extern sf_status logreg_check_labels(sf_env *env, const double *x, const double *y, size_t n,
									 int d, size_t *pos);
extern sf_status logreg_check_classes(sf_env *env, size_t pos, size_t n);

/* Probability of class 1 for one row x (n_features); NaN if any x is NaN. */
extern double logreg_predict(const logreg_model *m, const double *x);

/* Whole model bytes into b (initialised by the caller). */
extern sf_status logreg_encode(sf_env *env, const logreg_model *m, const logreg_params *p,
							   const char *const *names, uint64_t rows, sf_buf *b);
/* The info fields the body holds (intercept, coef, fit_intercept) as JSON. */
extern void logreg_body_json(const logreg_model *m, sf_buf *b);

/* Decode model bytes of kind logreg, checking invariants. */
extern sf_status logreg_decode(sf_env *env, const uint8_t *buf, size_t len, logreg_model *m);

#endif							/* SCFRISK_LOGREG_H */
