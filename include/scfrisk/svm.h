/*
 * svm.h
 *	  Linear support vector machine for binary labels (kind SF_KIND_LINEAR_SVM,
 *	  scfrisk.svm_train) with Platt scaling for probabilities.
 *
 * The primal, as LIBLINEAR's (and scikit-learn's LinearSVC) with labels
 * y = +1 for label 1 and -1 for label 0:
 *	  min_w 1/2 ||w||^2 + C sum_i loss(y_i w . x_i)
 * with loss(m) = max(0, 1 - m) ("hinge") or max(0, 1 - m)^2
 * ("squared_hinge", LinearSVC's default).  With fit_intercept every row gets
 * an extra feature equal to intercept_scaling whose weight is the intercept
 * divided by it, regularised like the others, as LIBLINEAR does.  It is
 * solved in the dual by coordinate descent with shrinking (Hsieh et al.
 * 2008, LIBLINEAR's solve_l2r_l1l2_svc): stop when the spread of the
 * projected gradient falls to tol, or after max_iter passes.
 *
 * Probabilities: P(label 1 | f) = 1 / (1 + exp(A f + B)) on the decision
 * value f, with A and B fitted by Platt's method as LIBSVM does (Lin, Lin
 * and Weng 2007: Newton's method with a backtracking line search on the
 * smoothed targets (N+ + 1) / (N+ + 2) and 1 / (N- + 2)), on decision
 * values from platt_folds-fold cross-validation (LIBSVM's 5 by default; 0
 * uses the training decision values).
 */
#ifndef SCFRISK_SVM_H
#define SCFRISK_SVM_H

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_params.h"

#define SVM_FORMAT_VERSION	1
#define SVM_TAG_COEF		SF_TAG_BODY		/* weights, intercept, Platt's A and B */
#define SVM_MAX_FEATURES	100000

#define SVM_LOSS_SQUARED_HINGE	0
#define SVM_LOSS_HINGE			1

typedef struct svm_params
{
	double		C;				/* weight of the losses against 1/2 ||w||^2 */
	int			loss;			/* SVM_LOSS_* */
	int			fit_intercept;	/* add the intercept feature */
	double		intercept_scaling;	/* value of the intercept feature */
	double		tol;			/* stop when the projected gradient spread is <= tol */
	int			max_iter;		/* passes over the rows */
	int			platt_folds;	/* folds of the Platt fit, 0 = training decision values */
	int64_t		seed;			/* seed of the coordinate order */
	sf_str_list feature_names;	/* optional names, one per feature */
	int			calibrate;		/* SF_CALIB_* fitted on out-of-fold scores; not in the JSON */
	int			calibrate_folds;
	int			verbose;		/* report progress (env->progress); not stored */
} svm_params;

extern const sf_param_table svm_params_table;

typedef struct svm_model
{
	uint32_t	n_features;
	double	   *coef;			/* (n_features) w */
	double		intercept;		/* b (0 without an intercept) */
	double		platt_a,
				platt_b;		/* P(1 | f) = 1 / (1 + exp(A f + B)) */
	/* diagnostics (info) */
	int			iterations;		/* passes of the final fit */
	int			converged;		/* tol reached before max_iter */
	uint64_t	train_rows;
} svm_model;

/*
 * Fit on x (n, p) row-major, all finite, labels y (n) in {0, 1} with both
 * classes.  *out is filled (free with svm_free).  SF_EDATA for unusable data,
 * SF_EINVAL for bad params, SF_ECANCEL when interrupted.
 */
extern sf_status svm_fit(sf_env *env, const svm_params *prm, const double *x, const double *y,
						 size_t n, uint32_t p, svm_model *out);
extern void svm_free(sf_env *env, svm_model *m);

/* JSON object of the fields the body determines (intercept, Platt's A and B), as in the info section. */
extern void svm_body_json(const svm_model *m, sf_buf *b);

/* Decision value w . x + b of one row. */
extern double svm_decision(const svm_model *m, const double *x);

/* Platt probability of label 1 of one row. */
extern double svm_predict(const svm_model *m, const double *x);

/* Whole model bytes into b (initialised by the caller); p and names may be NULL. */
extern sf_status svm_encode(sf_env *env, const svm_model *m, const svm_params *p,
							const char *const *names, sf_buf *b);

/* Decode model bytes of kind linear_svm into *m, checking every invariant. */
extern sf_status svm_decode(sf_env *env, const uint8_t *buf, size_t len, svm_model *m);

#endif							/* SCFRISK_SVM_H */
