/*
 * mlp.h
 *	  Multi-layer perceptron models (kind SF_KIND_MLP): training on a dense
 *	  double matrix, row scoring, and the model bytes.
 *
 * Inputs are standardised with the training mean and standard deviation
 * stored in the model; a missing value (NaN) is imputed with the training
 * mean (0 after standardising), optionally with a 0/1 missing indicator
 * input for each feature that had missing values in training.  Hidden layers
 * use one activation; the output is a sigmoid with log-loss
 * (binary:logistic) or the identity with squared error (reg:squarederror).
 * Training is mini-batch Adam (nn.h) with L2 weight decay, dropout, class
 * weights and early stopping on a seeded validation share.  The same seed and
 * data give the same model bytes.
 *
 * With linear_skip (the default) the output adds a linear term in the
 * standardised inputs ("wide and deep"): f(x) = deep(x) + w'x + b before the
 * sigmoid.  The linear part starts at the L2 logistic regression (C = 1) of
 * the training share and the deep part's output weights at zero, so training
 * starts at logistic regression, and early stopping (which scores that start
 * as epoch 0) keeps it when the network does not improve on it.  The linear
 * part is an optional body section: models without it decode as before.
 */
#ifndef SCFRISK_MLP_H
#define SCFRISK_MLP_H

#include "scfrisk/nn.h"
#include "scfrisk/sf_params.h"

#define MLP_FORMAT_VERSION	1
#define MLP_TAG_INPUT		SF_TAG_BODY		/* input standardisation section */
#define MLP_TAG_NET			(SF_TAG_BODY + 1)	/* network section */
#define MLP_TAG_SKIP		(SF_TAG_BODY + 2)	/* optional linear skip section */
#define MLP_BODY_SECTIONS	3	/* tags an MLP body reserves from its base */
#define MLP_SKIP_C			1.0	/* C of the logistic regression the skip starts at */

#define MLP_OBJ_BINARY		0	/* binary:logistic */
#define MLP_OBJ_REGRESSION	1	/* reg:squarederror */

/*
 * Defaults changed in 0.2.0 (0.1.0: 200, 0, 0, 0.1); docs/mlp.md gives the
 * reasons and the measurements.
 */
#define MLP_DEFAULT_BATCH_SIZE		64
#define MLP_DEFAULT_WEIGHT_DECAY	1e-3
#define MLP_DEFAULT_EARLY_STOPPING	10
#define MLP_DEFAULT_VALIDATION_SHARE	0.2

#define MLP_CW_NONE			0
#define MLP_CW_BALANCED		1

/* User hyperparameters (mlp_params_table describes them). */
typedef struct mlp_params
{
	int			objective;		/* MLP_OBJ_* */
	sf_int_list hidden;			/* hidden layer sizes, >= 1 layer */
	int			activation;		/* nn_activation of the hidden layers */
	int			epochs;			/* passes over the training rows */
	int			batch_size;		/* rows per Adam step */
	double		learning_rate;	/* Adam step size */
	double		weight_decay;	/* L2 rate added to the weights' gradient */
	double		dropout;		/* drop probability of hidden units */
	int			early_stopping_rounds;	/* epochs without validation gain; 0 = off */
	double		validation_share;	/* share of rows held out when early stopping */
	int			class_weight;	/* MLP_CW_*: none or balanced */
	double		scale_pos_weight;	/* extra weight of positive rows */
	int			missing_indicator;	/* add 0/1 inputs for features with missing values */
	int64_t		seed;			/* seed of splits, initialisation, shuffles, dropout */
	sf_str_list feature_names;	/* optional names, one per feature (mlp_train) */
	int			verbose;		/* report each epoch (env->progress); not stored */
	int			calibrate;		/* SF_CALIB_* fitted on out-of-fold scores; not in the JSON */
	int			calibrate_folds;
	int			linear_skip;	/* add a linear term in the inputs to the output */
	int			refit;			/* after early stopping, train on all rows for the best epochs */
} mlp_params;

extern const sf_param_table mlp_params_table;

/*
 * The table as it was before linear_skip and the new defaults (format of
 * scfrisk 0.1.0): the hybrid's paper mode writes its params with it, so its
 * model bytes stay those of 0.1.0.
 */
extern const sf_param_table mlp_params_table_v1;

/*
 * Set the fields whose defaults changed after 0.1.0 back to the 0.1.0 ones,
 * except those the user gave (given(key, ctx) returns 1 for them).
 */
extern void mlp_params_v1_defaults(mlp_params *p, int (*given) (const char *key, void *ctx), void *ctx);

/* Defaults of the table plus hidden = [64, 32] (the table cannot hold a list default). */
extern void mlp_params_default_hidden(mlp_params *p);

/* Cross-checks before training (empty hidden list, ...): SF_EINVAL with a message. */
extern sf_status mlp_params_check(sf_env *env, const mlp_params *p);

/* A trained MLP. */
typedef struct mlp_model
{
	uint32_t	n_features;		/* raw input width */
	int			objective;		/* MLP_OBJ_* */
	double	   *mean;			/* (n_features) training means (imputation value) */
	double	   *scale;			/* (n_features) training standard deviations (> 0) */
	uint8_t    *indicator;		/* (n_features) 1 when a missing indicator input follows */
	int			n_inputs;		/* network input width: n_features + indicators */
	nn_net		net;			/* the network, output width 1 */
	int			has_skip;		/* 1: output = sigmoid(net + skip), net output identity */
	nn_net		skip;			/* one identity layer n_inputs -> 1, when has_skip */
	/* diagnostics (SF_TAG_INFO, not needed for scoring) */
	int			epochs_run;		/* epochs actually run */
	int			best_epoch;		/* epoch whose weights were kept (1-based; 0 = the start) */
	double		train_loss;		/* mean training loss of the kept epoch */
	double		valid_loss;		/* mean validation loss of the kept epoch, NaN without one */
} mlp_model;

/*
 * Train on x (n, d) row-major (NaN = missing) and y (n).  Labels must be 0/1
 * for binary:logistic.  *out is filled (free with mlp_free).
 */
extern sf_status mlp_fit(sf_env *env, const mlp_params *p, const double *x, const double *y,
						 size_t n, int d, mlp_model *out);

/*
 * The same on float32 rows x (n, d) (the training aggregate's row store):
 * the model is the one mlp_fit gives on the same values widened to double.
 */
extern sf_status mlp_fit_f32(sf_env *env, const mlp_params *p, const float *x, const double *y,
							 size_t n, int d, mlp_model *out);
extern void mlp_free(sf_env *env, mlp_model *m);

/* Score one row x (n_features, NaN = missing): probability or regression value. */
extern double mlp_predict(const mlp_model *m, const double *x);

/* The output before the final sigmoid: log-odds for binary:logistic, as predict for regression. */
extern double mlp_predict_margin(const mlp_model *m, const double *x);

/*
 * Write the body sections: input and net with tags base and base + 1, the
 * skip with base + 2 when the model has one.
 */
extern void mlp_encode_body(const mlp_model *m, sf_buf *b, uint16_t tag_base);

/* Diagnostics JSON object of the model (appended to b, no NUL). */
extern void mlp_info_json(const mlp_model *m, sf_buf *b);

/* The fields of mlp_info_json that the body holds (objective, layers,
 * weights, missing_indicators): what the scorer reads. */
extern void mlp_body_json(const mlp_model *m, sf_buf *b);

/*
 * Read the body sections with tags base .. base + 2 of a decoded container,
 * checking invariants; n_features is the expected raw width.
 */
extern sf_status mlp_decode_body(sf_env *env, const sf_container *c, uint16_t tag_base,
								 uint32_t n_features, mlp_model *m);

/*
 * Whole model bytes: container, params JSON, optional feature names, rows,
 * seed, info, body.  b must be initialised; it holds the bytes on success.
 */
extern sf_status mlp_encode(sf_env *env, const mlp_model *m, const mlp_params *p,
							const char *const *names, uint64_t rows, sf_buf *b);

/* Decode model bytes of kind mlp into *m (allocated through env). */
extern sf_status mlp_decode(sf_env *env, const uint8_t *buf, size_t len, mlp_model *m);

#endif							/* SCFRISK_MLP_H */
