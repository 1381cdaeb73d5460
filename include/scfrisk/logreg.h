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
