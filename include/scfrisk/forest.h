/*
 * forest.h
 *	  CART decision trees (kind SF_KIND_CART, scfrisk.tree_train) and random
 *	  forests (kind SF_KIND_FOREST, scfrisk.rf_train) grown on the histogram
 *	  core of the boosted trees (src/trees/gbt_hist.c).
 *
 * Training follows scikit-learn's DecisionTreeClassifier /
 * RandomForestClassifier (and the regressors) with a histogram splitter:
 * the rows are quantised once into at most max_bin bins per feature
 * (gbt_bins_build: every distinct value has its own bin while a feature has
 * at most max_bin of them, so small data sets see every threshold
 * scikit-learn sees), and every tree is grown depth first.  A node splits
 * unless it is pure, has fewer than min_samples_split rows, or has reached
 * max_depth; the split is the one of largest impurity decrease (gini or
 * entropy for binary labels, squared error for regression) among the
 * features examined at that node, with at least min_samples_leaf rows on
 * each side.  As in scikit-learn, features are drawn at random without
 * replacement for every node until max_features of them have been examined
 * and at least one was not constant in the node.  A forest draws a bootstrap
 * sample (n rows with replacement) for every tree; a row drawn k times
 * weighs k in the impurities, while min_samples_split and min_samples_leaf
 * count distinct rows, as scikit-learn does.
 *
 * Monotone constraints (monotone_constraints, XGBoost's semantics as
 * xgb_train applies them, gbt_grow.c): every node carries bounds [lower,
 * upper] on its value (the root unbounded); a node's value is its mean
 * clipped to its bounds; a split on a feature constrained increasing (1) is
 * allowed only when the left child's clipped value is at most the right
 * one's (decreasing: at least), and then the children's bounds meet at the
 * mean of the two values, so every tree, and the forest's average, is
 * monotone in that feature.  A shorter list is padded with zeros.
 *
 * Missing values (NaN) are allowed: every split learns where they go (the
 * side that gives the larger decrease), as the boosted trees do.
 *
 * Scoring converts the features to float32 (as scikit-learn does), sends x
 * left when x < threshold, and averages the leaf values of the trees: the
 * share of label-1 weight in the leaf for binary trees (predict_proba), the
 * weighted mean label for regression.
 *
 * Determinism: tree t draws its bootstrap sample and its features from the
 * stream t of the seed, so the model bytes depend neither on the thread
 * count nor on the order trees finish in.
 */
#ifndef SCFRISK_FOREST_H
#define SCFRISK_FOREST_H

#include "scfrisk/gbt.h"
#include "scfrisk/sf_container.h"
#include "scfrisk/sf_params.h"

#define FOREST_FORMAT_VERSION	1
#define FOREST_TAG_META		SF_TAG_BODY			/* objective, criterion, tree count */
#define FOREST_TAG_TREES	(SF_TAG_BODY + 1)	/* the trees */
#define FOREST_BODY_SECTIONS	2	/* tags a forest body uses from its base tag */

/* Objectives (enum index of "objective"). */
#define FOREST_OBJ_BINARY		0	/* labels 0/1, score = probability of 1 */
#define FOREST_OBJ_REGRESSION	1	/* any finite label, score = mean */

/* Criteria (enum index of "criterion"); auto is gini or squared_error. */
#define FOREST_CRIT_AUTO		0
#define FOREST_CRIT_GINI		1
#define FOREST_CRIT_ENTROPY		2
#define FOREST_CRIT_SQUARED		3

/* Features examined per node (enum index of "max_features"). */
#define FOREST_MF_AUTO			0	/* sqrt for binary forests, all otherwise */
#define FOREST_MF_SQRT			1
#define FOREST_MF_LOG2			2
#define FOREST_MF_ALL			3

/* Limits. */
#define FOREST_MAX_DEPTH		64	/* the cap of max_depth (and its default) */
#define FOREST_MAX_TREES		10000
#define FOREST_DEFAULT_TREES	100
#define FOREST_MAX_FEATURES		GBT_MAX_FEATURES

typedef struct forest_params
{
	int			objective;		/* FOREST_OBJ_* */
	int			criterion;		/* FOREST_CRIT_* */
	int			n_estimators;	/* trees (1 for tree_train) */
	int			max_depth;		/* deepest leaf (root = depth 0) */
	int			min_samples_split;	/* fewest distinct rows of a node that may split */
	int			min_samples_leaf;	/* fewest distinct rows of a leaf */
	int			max_features;	/* FOREST_MF_* */
	int			bootstrap;		/* draw a bootstrap sample per tree */
	int			oob_score;		/* score every row by the trees it was out of bag for */
	int			max_bin;		/* most bins per feature */
	int64_t		seed;			/* seed of the bootstrap and feature draws */
	sf_str_list feature_names;	/* optional names, one per feature */
	sf_int_vec	monotone_constraints;	/* -1/0/1 per feature (XGBoost's), n 0: none */
	int			calibrate;		/* SF_CALIB_* fitted on out-of-fold scores; not in the JSON */
	int			calibrate_folds;
	int			verbose;		/* report progress (env->progress); not stored */
} forest_params;

/* rf_train's table (n_estimators, bootstrap) and tree_train's (one tree, no bootstrap). */
extern const sf_param_table forest_params_table;
extern const sf_param_table cart_params_table;

/* A trained tree or forest.  Everything is owned by the model. */
typedef struct forest_model
{
	uint16_t	kind;			/* SF_KIND_CART or SF_KIND_FOREST */
	uint32_t	n_features;
	int			objective;		/* FOREST_OBJ_* */
	int			criterion;		/* FOREST_CRIT_* actually used (never AUTO) */
	int32_t		n_trees;
	/*
	 * Trees in the layout of gbt_tree: split_cond is the threshold (leaves:
	 * their value), base_weight the node's value, loss_chg the weighted
	 * impurity decrease of the split, sum_hess the node's weight (rows drawn).
	 */
	gbt_tree   *trees;
	uint64_t	train_rows;
	struct gbt_fast *fast;		/* scorer built by forest_decode (scfrisk/gbt_fast.h), or NULL */

	/*
	 * Out-of-bag scores (rf_train with oob_score): each row scored by the
	 * trees whose bootstrap sample left it out, over the oob_rows rows some
	 * tree left out.  Binary: AUC, accuracy (score > 0.5, scikit-learn's
	 * oob_score_) and log loss; regression: R^2 (oob_auc and oob_logloss
	 * NaN).  Written to the info section only (not read back: NaN and 0
	 * after decoding).
	 */
	uint64_t	oob_rows;
	double		oob_auc,
				oob_accuracy,
				oob_logloss,
				oob_r2;
} forest_model;

/*
 * Train on x (n, p) row-major (NaN = missing), labels y (n; 0/1 for binary
 * with both classes present).  kind SF_KIND_CART grows one tree on every row
 * (n_estimators and bootstrap ignored); SF_KIND_FOREST grows n_estimators
 * trees on env->threads threads.  *out is allocated through env (free with
 * forest_model_free).  SF_EDATA for unusable data, SF_EINVAL for bad params,
 * SF_ECANCEL when interrupted.
 */
extern sf_status forest_train(sf_env *env, uint16_t kind, const double *x, const double *y,
							  size_t n, uint32_t p, const forest_params *params,
							  forest_model **out);
extern void forest_model_free(sf_env *env, forest_model *m);

/* Leaf value of one tree for row x (compared as float32, NaN = missing). */
extern double forest_tree_value(const gbt_tree *t, const double *x);

/* Score one row (n_features doubles, NaN = missing): mean of the trees' leaf values. */
extern double forest_predict(const forest_model *m, const double *x);

/*
 * forest_predict of n rows x (n, n_features) into out (n), on the pool:
 * rows in blocks, each block scored tree after tree (a tree's nodes stay in
 * cache over the block), every row's sum in tree order, so out equals
 * forest_predict bit for bit whatever the thread count.
 */
extern void forest_predict_rows(sf_env *env, const forest_model *m, const double *x, size_t n,
								double *out);

/*
 * Impurity-based importance of every feature into out (n_features), as
 * scikit-learn's feature_importances_: each tree's weighted impurity
 * decreases per feature normalised to sum 1, averaged over the trees, the
 * average normalised to sum 1 (all 0 when no tree splits).
 */
extern sf_status forest_importance(sf_env *env, const forest_model *m, double *out);

/*
 * Whole model bytes: container of m->kind, params JSON (the table of the
 * kind), optional feature names, rows, seed, info, body.  b must be
 * initialised; it holds the bytes.
 */
extern sf_status forest_encode(sf_env *env, const forest_model *m, const forest_params *p,
							   const char *const *names, sf_buf *b);

/*
 * Decode model bytes of kind 'kind' (SF_KIND_CART or SF_KIND_FOREST) into
 * *out, checking every invariant.  SF_ECORRUPT / SF_EKIND with a message.
 */
/* JSON object of what the body determines (objective, criterion, tree sizes): the info section. */
extern void forest_body_json(const forest_model *m, sf_buf *b);

/*
 * The body alone (FOREST_BODY_SECTIONS sections from tag_base), for a model
 * that holds a forest beside other parts (the xgb_mlp blend).  The decoder
 * needs m->kind and m->n_features set, fills the trees and builds the fast
 * scorer; free m with forest_model_free.
 */
extern void forest_encode_body(const forest_model *m, sf_buf *b, uint16_t tag_base);
extern sf_status forest_decode_body(sf_env *env, const sf_container *c, uint16_t tag_base,
									forest_model *m);

extern sf_status forest_decode(sf_env *env, uint16_t kind, const uint8_t *buf, size_t len,
							   forest_model **out);

#endif							/* SCFRISK_FOREST_H */
