/*
 * nb.h
 *	  Gaussian naive Bayes for binary labels (kind SF_KIND_GAUSSIAN_NB,
 *	  scfrisk.nb_train), as scikit-learn's GaussianNB.
 *
 * Fit: per class c in {0, 1} the prior (its share of the rows), the mean of
 * every feature and its variance (population variance, ddof 0); every
 * variance is then increased by epsilon = var_smoothing times the largest
 * variance of any feature over all rows, exactly as GaussianNB does.
 * Score: the joint log likelihood of each class,
 *	  jll_c = log prior_c - 1/2 sum_j log(2 pi var_cj) - 1/2 sum_j (x_j - mean_cj)^2 / var_cj,
 * and the probability of class 1, exp(jll_1 - logsumexp(jll_0, jll_1)).
 * Means and variances are computed in two passes in double (mean, then the
 * mean of squared deviations), so scores agree with scikit-learn's to
 * rounding (the peer test holds them within 1e-9).
 *
 * Missing values are not accepted (GaussianNB refuses NaN): NaN features
 * are an error in training and in scoring.
 */
#ifndef SCFRISK_NB_H
#define SCFRISK_NB_H

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_params.h"

#define NB_FORMAT_VERSION	1
#define NB_TAG_META		SF_TAG_BODY			/* epsilon and the priors */
#define NB_TAG_STATS	(SF_TAG_BODY + 1)	/* means and variances */
#define NB_MAX_FEATURES	100000

typedef struct nb_params
{
	double		var_smoothing;	/* share of the largest feature variance added to every variance */
	sf_str_list feature_names;	/* optional names, one per feature */
	int			calibrate;		/* SF_CALIB_* fitted on out-of-fold scores; not in the JSON */
	int			calibrate_folds;
	int			verbose;		/* report progress (env->progress); not stored */
} nb_params;

extern const sf_param_table nb_params_table;

typedef struct nb_model
{
	uint32_t	n_features;
	double		epsilon;		/* the variance added (var_smoothing times the largest variance) */
	double		prior[2];		/* class shares, each in (0, 1) */
	double	   *mean;			/* (2, n_features) class-major */
	double	   *var;			/* (2, n_features) variances with epsilon, > 0 */
	uint64_t	train_rows;
} nb_model;

/*
 * Fit on x (n, p) row-major, all finite, labels y (n) in {0, 1} with both
 * classes.  *out is filled (free with nb_free).  SF_EDATA for unusable data
 * (NaN, one class, a zero variance with var_smoothing 0).
 */
extern sf_status nb_fit(sf_env *env, const nb_params *prm, const double *x, const double *y,
						size_t n, uint32_t p, nb_model *out);
extern void nb_free(sf_env *env, nb_model *m);

/* Probability of class 1 for one row x (n_features, finite); NaN if any x is NaN. */
/* JSON object of what the body determines (epsilon, class priors): the info section. */
extern void nb_body_json(const nb_model *m, sf_buf *b);

extern double nb_predict(const nb_model *m, const double *x);

/* Whole model bytes into b (initialised by the caller); p and names may be NULL. */
extern sf_status nb_encode(sf_env *env, const nb_model *m, const nb_params *p,
						   const char *const *names, sf_buf *b);

/* Decode model bytes of kind gaussian_nb into *m, checking every invariant. */
extern sf_status nb_decode(sf_env *env, const uint8_t *buf, size_t len, nb_model *m);

#endif							/* SCFRISK_NB_H */
