/*
 * xgb_mlp.h
 *	  The XGBoost-MLP hybrid (kind SF_KIND_XGB_MLP) of the XGBoost-MLP paper:
 *	  gradient-boosted trees rank the features by importance (Stage I), an MLP
 *	  classifies on the features whose normalised importance reaches a
 *	  threshold (Stage II).  One model holds both stages and the selection.
 *
 * Training runs the tree core (gbt.h) on all features, normalises the chosen
 * importance type to sum 1, keeps the features at or above the threshold in
 * their original order, and trains the MLP core (mlp.h) on those columns.
 *
 * Three modes.  "paper" is the paper's pipeline as scfrisk 0.1.0 ran it: the
 * MLP sees the kept columns only and the trees are kept for importance and
 * explanation, not for scoring.  "stacked" also gives the MLP
 * the trees' margin as one more input: during training the margin of each
 * row comes from trees trained on the other folds (k folds, seeded,
 * stratified by label), so it never saw the row's label; at scoring it is
 * the margin of the Stage I trees.  The MLP's linear skip then starts at a
 * logistic regression on the kept features and the margin, a blend of both
 * parts.  "threshold": "auto" picks the threshold among
 * xgb_mlp_auto_thresholds by the out-of-fold AUC of the MLP over the same
 * folds.  "blend" (the default; xgb_mlp_blend.c) scores a non-negative
 * logistic stacker over the out-of-fold margins of the trees, a random forest,
 * the network (on the kept features alone) and a logistic regression, or
 * the best of them alone when the cross-fitted blend does not beat it.  The
 * same data, parameters and seeds give the same bytes.
 *
 * Payload: the common sections, then XGB_MLP_TAG_SELECT (the selection and
 * every feature's normalised importance), the tree body (GBT_BODY_SECTIONS
 * tags from XGB_MLP_TAG_GBT), the MLP body (MLP_BODY_SECTIONS tags from
 * XGB_MLP_TAG_MLP) and, for stacked, blend or auto models, XGB_MLP_TAG_STACK
 * (a model without it is a paper-mode model, as all 0.1.0 models are); a
 * blend adds XGB_MLP_TAG_BLEND and, when the forest's weight is positive,
 * its body from XGB_MLP_TAG_FOREST.
 * docs/format.md documents the bytes.
 */
#ifndef SCFRISK_XGB_MLP_H
#define SCFRISK_XGB_MLP_H

#include "scfrisk/forest.h"
#include "scfrisk/gbt.h"
#include "scfrisk/logreg.h"
#include "scfrisk/mlp.h"

#define XGB_MLP_FORMAT_VERSION	1
#define XGB_MLP_TAG_SELECT	SF_TAG_BODY	/* importance type, threshold, selection */
#define XGB_MLP_TAG_GBT		(SF_TAG_BODY + 1)	/* GBT_BODY_SECTIONS tags */
#define XGB_MLP_TAG_MLP		(XGB_MLP_TAG_GBT + GBT_BODY_SECTIONS)	/* MLP_BODY_SECTIONS tags */
#define XGB_MLP_TAG_STACK	(XGB_MLP_TAG_MLP + MLP_BODY_SECTIONS)	/* optional: mode, folds */
#define XGB_MLP_TAG_BLEND	(XGB_MLP_TAG_STACK + 1)	/* blend: weights, the linear part */
#define XGB_MLP_TAG_FOREST	(XGB_MLP_TAG_BLEND + 1)	/* blend: FOREST_BODY_SECTIONS tags */

#define XGB_MLP_MODE_STACKED	0
#define XGB_MLP_MODE_PAPER		1
#define XGB_MLP_MODE_BLEND		2

/*
 * The parts of a blend, in the order of its weights: the Stage I trees'
 * margin, the random forest's probability, the network's margin and the
 * logistic regression's margin.
 */
#define XGB_MLP_PART_TREES		0
#define XGB_MLP_PART_FOREST		1
#define XGB_MLP_PART_MLP		2
#define XGB_MLP_PART_LOGREG		3
#define XGB_MLP_N_PARTS			4
extern const char *const xgb_mlp_part_names[XGB_MLP_N_PARTS];

/*
 * The blend's forest grows 300 trees unless rf.n_estimators is given
 * (rf_train's default is 100): more trees only lower a forest's variance
 * (Breiman 2001), and its out-of-fold margin is the stacker's input, where
 * the variance of a 100-tree forest showed (docs/xgboost-mlp.md).
 */
#define XGB_MLP_BLEND_FOREST_TREES	300

/* The stacker's ridge on standardised part margins (as logreg_train's C = 1). */
#define XGB_MLP_STACKER_RIDGE	1.0
#define XGB_MLP_MAX_FOLDS		20

/*
 * The default threshold of stacked mode (paper mode's is 0.03, the table's):
 * every feature, because the margin already carries the trees and a dropped
 * feature is lost to the linear part (docs/xgboost-mlp.md, measurements).
 */
#define XGB_MLP_STACKED_THRESHOLD	0.0

/* The thresholds "auto" tries, increasing. */
#define XGB_MLP_N_AUTO		7
extern const double xgb_mlp_auto_thresholds[XGB_MLP_N_AUTO];

/* Hyperparameters: the two stages' own tables nested under "xgb" and "mlp". */
typedef struct xgb_mlp_params
{
	gbt_params	xgb;			/* Stage I trees (objective must be binary:logistic) */
	mlp_params	mlp;			/* Stage II network (objective must be binary:logistic) */
	forest_params rf;			/* blend: the random forest (objective binary) */
	logreg_params logreg;		/* blend: the logistic regression */
	int			importance_type;	/* gbt_importance_type that ranks the features */
	double		threshold;		/* keep features with normalised importance >= this */
	sf_str_list feature_names;	/* optional names (the same as xgb.feature_names if both given) */
	int			verbose;		/* report both stages' progress; not stored */
	int			mode;			/* XGB_MLP_MODE_* */
	int			folds;			/* k of the out-of-fold margin and of "auto" */
	int			threshold_auto;	/* 1: "threshold": "auto" (threshold unused) */
	int			threshold_choice;	/* the auto table's enum index (0 = "auto") */
	int			calibrate;		/* SF_CALIB_* fitted on out-of-fold scores; not in the JSON */
	int			calibrate_folds;
} xgb_mlp_params;

/*
 * Views of the same struct: "threshold" a number, "threshold" the string
 * "auto" (an enum with one choice; whoever parses with this table sets
 * threshold_auto), each without the blend's keys "rf" and "logreg" (the
 * _stacked tables: stacked and paper-mode "auto" models write their params
 * with them, so their bytes are those of the release before the blend), and
 * the keys of 0.1.0 (paper-mode models write their params with it, so their
 * bytes are 0.1.0's).
 */
extern const sf_param_table xgb_mlp_params_table;
extern const sf_param_table xgb_mlp_params_table_auto;
extern const sf_param_table xgb_mlp_params_table_stacked;
extern const sf_param_table xgb_mlp_params_table_stacked_auto;
extern const sf_param_table xgb_mlp_params_table_v1;

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
	double		threshold;		/* the selection threshold (the chosen one with "auto") */
	int			mode;			/* XGB_MLP_MODE_* */
	int			folds;			/* k of the out-of-fold margin and of "auto" (stack section) */
	int			threshold_auto;	/* the threshold was chosen by cross-validation */
	double		auto_auc[XGB_MLP_N_AUTO];	/* diagnostics of "auto": out-of-fold AUC, NaN if not tried */
	double	   *importance;		/* (n_features) normalised importance, sums to 1 */
	uint32_t	n_selected;		/* kept features, >= 1 */
	uint32_t   *selected;		/* (n_selected) 0-based indices, increasing */
	gbt_model  *trees;			/* Stage I ensemble */
	mlp_model	mlp;			/* Stage II network over the kept features (then the margin) */

	/* blend mode only (xgb_mlp_blend.c) */
	forest_model *forest;		/* the random forest on every feature */
	logreg_model lin;			/* the logistic regression on every feature */
	double	   *lin_mean;		/* (n_features) training means: the linear part's missing values */
	double		blend_intercept;	/* the stacker's intercept */
	double		blend_w[XGB_MLP_N_PARTS];	/* the stacker's weights, >= 0 */
	int			blend_choice;	/* -1: the blend; else the one part the fallback kept */
	/* training diagnostics (info section only, NaN after decoding) */
	double		part_auc[XGB_MLP_N_PARTS];	/* each part's out-of-fold AUC */
	double		blend_auc;		/* the stacker's cross-fitted out-of-fold AUC */
} xgb_mlp_model;

/*
 * Train on x (n, d) row-major (NaN = missing) with 0/1 labels y (n).  Fails
 * with SF_EDATA when no feature reaches the threshold (the message gives the
 * largest normalised importance), the selection is wider than an MLP
 * accepts, or (stacked, auto) a class has fewer rows than folds.
 */
extern sf_status xgb_mlp_fit(sf_env *env, const xgb_mlp_params *p, const double *x,
							 const double *y, size_t n, uint32_t d, xgb_mlp_model *out);
extern void xgb_mlp_free(sf_env *env, xgb_mlp_model *m);

/*
 * Fold (0 .. k - 1) of each of the n rows: a seeded permutation dealt out
 * per class, so every fold has the classes' shares.  Deterministic.
 */
extern sf_status xgb_mlp_folds(sf_env *env, const double *y, size_t n, int k, uint64_t seed,
							   uint8_t *fold);

/*
 * Out-of-fold margins: for each fold f, trees with params p trained on the
 * other folds score the rows of f.  margin has n entries.
 */
extern sf_status xgb_mlp_oof_margin(sf_env *env, const gbt_params *p, const double *x,
									const double *y, size_t n, uint32_t d, int k,
									const uint8_t *fold, double *margin);

/*
 * Blend mode (xgb_mlp_blend.c).  Out-of-fold margins z (n, XGB_MLP_N_PARTS)
 * of the parts over the folds, every part trained on the other folds; the
 * network sees the m->n_selected columns of m->selected.
 */
extern sf_status xgb_mlp_blend_oof(sf_env *env, const xgb_mlp_params *p, const xgb_mlp_model *m,
								   const double *x, const double *y, size_t n, uint32_t d,
								   const uint8_t *fold, double *z);

/*
 * The stacker: the logistic regression of y on the columns of z (n, k) with
 * an intercept, weights >= 0 and the ridge penalty ridge/2 * sum (w_j s_j)^2
 * (s_j the standard deviation of column j, so the penalty is that of
 * standardised margins).  Columns with use[j] == 0 keep weight 0.  Projected
 * coordinate descent to convergence; deterministic.
 */
extern sf_status xgb_mlp_stacker_fit(sf_env *env, const double *z, const double *y, size_t n,
									 int k, const int *use, double ridge, double *intercept,
									 double *w);

/*
 * The blend's weights from the out-of-fold margins z: the stacker on every
 * part when its cross-fitted AUC over the folds beats every part's own
 * out-of-fold AUC, else the part with the best (ties: the first) alone.
 * Sets m->blend_intercept, blend_w, blend_choice, part_auc, blend_auc.
 */
extern sf_status xgb_mlp_blend_choose(sf_env *env, const double *z, const double *y, size_t n,
									  int k, const uint8_t *fold, xgb_mlp_model *m);

/* The final forest and linear part on every row (blend mode). */
extern sf_status xgb_mlp_blend_fit_parts(sf_env *env, const xgb_mlp_params *p, const double *x,
										 const double *y, size_t n, uint32_t d, xgb_mlp_model *m);

/* Each part's margin of row x into part (XGB_MLP_N_PARTS), NaN = missing in x. */
extern void xgb_mlp_blend_parts(const xgb_mlp_model *m, const double *x, double *part);

/* The blend's sections (encode) and their reading (decode, after the stack section). */
extern void xgb_mlp_blend_encode(const xgb_mlp_model *m, sf_buf *b);
extern sf_status xgb_mlp_blend_decode(sf_env *env, const sf_container *c, xgb_mlp_model *m);
extern void xgb_mlp_blend_json(const xgb_mlp_model *m, sf_buf *b, int diagnostics);
extern void xgb_mlp_blend_free(sf_env *env, xgb_mlp_model *m);

/* Probability of the positive class for one row x (n_features, NaN = missing). */
extern double xgb_mlp_predict(const xgb_mlp_model *m, const double *x);

/* Its log-odds (the network's output before the sigmoid). */
extern double xgb_mlp_predict_margin(const xgb_mlp_model *m, const double *x);

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
