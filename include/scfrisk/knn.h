/*
 * knn.h
 *	  k nearest neighbours for binary labels (kind SF_KIND_KNN,
 *	  scfrisk.knn_train), as scikit-learn's KNeighborsClassifier on
 *	  StandardScaler'd features with exact (brute-force) search.
 *
 * Fit: the mean and population standard deviation of every feature (a
 * constant feature gets scale 1, as StandardScaler), and the training rows
 * standardised with them, kept in the model with their labels: a model
 * holds its training set, so its size is capped (KNN_MAX_ROWS rows and
 * KNN_MAX_ELEMENTS numbers; beyond is SF_ELIMIT).
 * Score: the row is standardised, its k nearest training rows by Euclidean
 * distance are found by exact search (ties at equal distance go to the
 * earlier row of the canonical order), and the probability of label 1 is
 * their share of label 1, or with weights "distance" the 1/d-weighted share
 * (a row at distance 0 takes all the weight, shared with any other such
 * row), as predict_proba.
 */
#ifndef SCFRISK_KNN_H
#define SCFRISK_KNN_H

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_params.h"

#define KNN_FORMAT_VERSION	1
#define KNN_TAG_META		SF_TAG_BODY			/* k, weights, rows */
#define KNN_TAG_SCALE		(SF_TAG_BODY + 1)	/* mean and scale per feature */
#define KNN_TAG_ROWS		(SF_TAG_BODY + 2)	/* standardised rows */
#define KNN_TAG_LABELS		(SF_TAG_BODY + 3)	/* labels */

#define KNN_MAX_ROWS		200000		/* rows a model may hold */
#define KNN_MAX_ELEMENTS	20000000	/* rows times features a model may hold (160 MB) */
#define KNN_MAX_K			1000
#define KNN_MAX_FEATURES	1000		/* a row is standardised on the stack */

#define KNN_WEIGHTS_UNIFORM		0
#define KNN_WEIGHTS_DISTANCE	1

typedef struct knn_params
{
	int			k;				/* neighbours */
	int			weights;		/* KNN_WEIGHTS_* */
	sf_str_list feature_names;	/* optional names, one per feature */
	int			verbose;		/* report progress (env->progress); not stored */
} knn_params;

extern const sf_param_table knn_params_table;

typedef struct knn_model
{
	uint32_t	n_features;
	int			k;
	int			weights;
	uint32_t	n_rows;
	double	   *mean;			/* (n_features) */
	double	   *scale;			/* (n_features) > 0 */
	double	   *rows;			/* (n_rows, n_features) standardised */
	uint8_t    *labels;			/* (n_rows) 0 or 1 */
} knn_model;

/*
 * Fit on x (n, p) row-major, all finite, labels y (n) in {0, 1} with both
 * classes.  SF_EINVAL when k exceeds the rows, SF_ELIMIT past the caps.
 */
extern sf_status knn_fit(sf_env *env, const knn_params *prm, const double *x, const double *y,
						 size_t n, uint32_t p, knn_model *out);
extern void knn_free(sf_env *env, knn_model *m);

/*
 * Probability of label 1 for one row x (n_features, finite); NaN when x
 * holds NaN.  Uses about 20 kB of stack (the standardised row and the k best).
 */
extern double knn_predict(const knn_model *m, const double *x);

/* JSON object of what the body determines (k, weights, rows held): the info section. */
extern void knn_body_json(const knn_model *m, sf_buf *b);

extern sf_status knn_encode(sf_env *env, const knn_model *m, const knn_params *p,
							const char *const *names, sf_buf *b);
extern sf_status knn_decode(sf_env *env, const uint8_t *buf, size_t len, knn_model *m);

#endif							/* SCFRISK_KNN_H */
