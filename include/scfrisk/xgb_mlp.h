/*
 * xgb_mlp.h
 *	  The XGBoost-MLP hybrid (kind SF_KIND_XGB_MLP) of the XGBoost-MLP paper:
 *	  gradient-boosted trees rank the features by importance (Stage I), an MLP
 *	  classifies on the features whose normalised importance reaches a
 *	  threshold (Stage II).  One model holds both stages and the selection.
 *
 * Training runs the tree core (gbt.h) on all features, normalises the chosen
 * importance type to sum 1, keeps the features at or above the threshold in
 * their original order, and trains the MLP core (mlp.h) on those columns
 * only.  Scoring gathers the kept columns of a row and runs the MLP; the
 * trees are kept in the model for importance and explanation, not for
 * scoring.  The same data, parameters and seeds give the same bytes, because
 * both stages are deterministic.
 *
 * Payload: the common sections, then XGB_MLP_TAG_SELECT (the selection and
 * every feature's normalised importance), the tree body (GBT_BODY_SECTIONS
 * tags from XGB_MLP_TAG_GBT) and the MLP body (two tags from
 * XGB_MLP_TAG_MLP).  docs/format.md documents the bytes.
 */
#ifndef SCFRISK_XGB_MLP_H
#define SCFRISK_XGB_MLP_H

#include "scfrisk/gbt.h"
#include "scfrisk/mlp.h"

#define XGB_MLP_FORMAT_VERSION	1
#define XGB_MLP_TAG_SELECT	SF_TAG_BODY	/* importance type, threshold, selection */
#define XGB_MLP_TAG_GBT		(SF_TAG_BODY + 1)	/* GBT_BODY_SECTIONS tags */
#define XGB_MLP_TAG_MLP		(XGB_MLP_TAG_GBT + GBT_BODY_SECTIONS)	/* two tags */

/* Hyperparameters: the two stages' own tables nested under "xgb" and "mlp". */
typedef struct xgb_mlp_params
{
	gbt_params	xgb;			/* Stage I trees (objective must be binary:logistic) */
	mlp_params	mlp;			/* Stage II network (objective must be binary:logistic) */
	int			importance_type;	/* gbt_importance_type that ranks the features */
	double		threshold;		/* keep features with normalised importance >= this */
} xgb_mlp_params;

extern const sf_param_table xgb_mlp_params_table;

/*
 * Cross-checks after parsing (both objectives binary, the MLP's own checks).
 * The caller sets mlp.hidden to [64, 32] first when the user gave none
 * (mlp_params_default_hidden), as for mlp_train.
 */
extern sf_status xgb_mlp_params_check(sf_env *env, const xgb_mlp_params *p);

typedef struct xgb_mlp_model
{
	uint32_t	n_features;		/* raw input width */
	int			importance_type;	/* gbt_importance_type used for the selection */
	double		threshold;		/* the selection threshold */
	double	   *importance;		/* (n_features) normalised importance, sums to 1 */
	uint32_t	n_selected;		/* kept features, >= 1 */
	uint32_t   *selected;		/* (n_selected) 0-based indices, increasing */
	gbt_model  *trees;			/* Stage I ensemble */
	mlp_model	mlp;			/* Stage II network over the kept features */
} xgb_mlp_model;

/*
 * Train on x (n, d) row-major (NaN = missing) with 0/1 labels y (n).  Fails
 * with SF_EDATA when no feature reaches the threshold (the message gives the
 * largest normalised importance) or the selection is wider than an MLP
 * accepts.
 */
extern sf_status xgb_mlp_fit(sf_env *env, const xgb_mlp_params *p, const double *x,
							 const double *y, size_t n, uint32_t d, xgb_mlp_model *out);
extern void xgb_mlp_free(sf_env *env, xgb_mlp_model *m);

/* Probability of the positive class for one row x (n_features, NaN = missing). */
extern double xgb_mlp_predict(const xgb_mlp_model *m, const double *x);

/* Diagnostics JSON object (selection, importances, both stages' logs) appended to b. */
extern void xgb_mlp_info_json(const xgb_mlp_model *m, sf_buf *b);

/* The fields of xgb_mlp_info_json that the body holds (selection, the trees'
 * info, the network's body fields): what the scorer reads. */
extern void xgb_mlp_body_json(const xgb_mlp_model *m, sf_buf *b);

/*
 * Whole model bytes: container, params JSON, optional feature names (d
 * strings), rows, seed (the trees' seed), info, body.
 */
extern sf_status xgb_mlp_encode(sf_env *env, const xgb_mlp_model *m, const xgb_mlp_params *p,
								const char *const *names, uint64_t rows, sf_buf *b);

/* Decode model bytes of kind xgb_mlp into *m, checking every invariant. */
extern sf_status xgb_mlp_decode(sf_env *env, const uint8_t *buf, size_t len, xgb_mlp_model *m);

#endif							/* SCFRISK_XGB_MLP_H */
