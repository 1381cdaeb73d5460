/*
 * gbt.h
 *	  Gradient-boosted regression trees (kind SF_KIND_GBT) with XGBoost's
 *	  semantics and parameter names: histogram training, row scoring,
 *	  importance, and the model bytes.
 *
 * Training is second-order boosting (Chen and Guestrin 2016) in the manner
 * of XGBoost's "hist" tree method: quantile bin edges per feature computed
 * once, rows stored once as bin codes, gradient histograms per node with the
 * smaller child built and the larger derived by subtraction, depthwise
 * growth, and a learned default direction for missing values (NaN) at every
 * split.  Split gain, leaf weights, L1/L2 terms, min_child_weight, gamma and
 * max_delta_step follow XGBoost 1.7's formulas (xgboost/src/tree/param.h).
 *
 * Scoring follows XGBoost 1.7 to the bit: features are converted to float32,
 * a split sends x left when x < split_condition (float32), a missing value
 * follows default_left, and the leaf values are summed in float32 starting
 * from the float32 base margin; the probability is 1 / (1 + expf(-margin)).
 *
 * Determinism: the same data, parameters and seed give the same model bytes,
 * whatever the thread count (threads split work by feature, so every sum is
 * taken in row order).
 *
 * Embedding: another kind (the XGBoost-MLP hybrid) embeds a tree ensemble in
 * its own payload with gbt_encode_body / gbt_decode_body, which write and
 * read GBT_BODY_SECTIONS consecutive section tags from a base tag it chooses.
 */
#ifndef SCFRISK_GBT_H
#define SCFRISK_GBT_H

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_params.h"

#define GBT_FORMAT_VERSION	1
#define GBT_TAG_META		SF_TAG_BODY			/* objective, base score, sizes */
#define GBT_TAG_TREES		(SF_TAG_BODY + 1)	/* the trees */
#define GBT_TAG_EVAL		(SF_TAG_BODY + 2)	/* per-round evaluation log */
#define GBT_BODY_SECTIONS	3	/* tags used from the base tag of gbt_encode_body */

/* Objectives (enum index of "objective"). */
#define GBT_OBJ_BINARY		0	/* binary:logistic: probability, log-loss */
#define GBT_OBJ_REGRESSION	1	/* reg:squarederror: value, squared error */

/* Evaluation metrics (enum index of "eval_metric"). */
#define GBT_METRIC_AUTO		0	/* logloss for binary:logistic, rmse for regression */
#define GBT_METRIC_LOGLOSS	1
#define GBT_METRIC_AUC		2
#define GBT_METRIC_RMSE		3

/* Limits (MIN/MAX/DEFAULT triples of the params table). */
#define GBT_MIN_DEPTH		1
#define GBT_MAX_DEPTH		16
#define GBT_DEFAULT_DEPTH	6
#define GBT_MIN_BIN			2
#define GBT_MAX_BIN			65535
#define GBT_DEFAULT_BIN		256
#define GBT_MAX_ROUNDS		100000
#define GBT_DEFAULT_ROUNDS	100
#define GBT_MAX_FEATURES	100000	/* input width cap (bin tables are per feature) */

/*
 * Progress report passed to gbt_params.progress after a round (the server
 * turns it into a NOTICE; called from the calling thread only).
 */
typedef struct gbt_progress
{
	int			round;			/* 1-based round just finished */
	int			n_rounds;		/* rounds requested */
	const char *metric;			/* metric name ("logloss") */
	double		train;			/* training metric, NaN when not computed */
	double		valid;			/* validation metric, NaN without a validation share */
} gbt_progress;

/*
 * User hyperparameters, described by gbt_params_table with XGBoost's names,
 * defaults and ranges; a nested "xgb": {...} object of the hybrid's params
 * parses with the same table (SF_PT_OBJECT entry with sub = &gbt_params_table).
 */
typedef struct gbt_params
{
	int			objective;		/* GBT_OBJ_* ("binary:logistic", "reg:squarederror") */
	int			n_estimators;	/* boosting rounds (trees) */
	int			max_depth;		/* depth of each tree (root = depth 0) */
	double		eta;			/* learning rate: shrinkage of leaf values */
	double		lambda;			/* L2 penalty on leaf weights */
	double		alpha;			/* L1 penalty on leaf weights */
	double		gamma;			/* minimum loss reduction of a split (min_split_loss) */
	double		min_child_weight;	/* minimum hessian sum of a child */
	double		max_delta_step; /* cap on |leaf weight| before eta, 0 = none */
	double		subsample;		/* share of rows sampled per tree */
	double		colsample_bytree;	/* share of features sampled per tree */
	double		colsample_bylevel;	/* share of the tree's features sampled per level */
	int			max_bin;		/* most bins per feature */
	double		scale_pos_weight;	/* extra weight of rows with label 1 */
	double		base_score;		/* initial prediction (probability for logistic) */
	int64_t		seed;			/* seed of row and feature sampling and the validation split */
	int			early_stopping_rounds;	/* rounds without validation gain; 0 = off */
	double		validation_share;	/* share of rows held out when early stopping */
	int			eval_metric;	/* GBT_METRIC_* */
	int			verbose;		/* report progress every verbose_every rounds */
	int			verbose_every;	/* rounds between progress reports */
	sf_str_list feature_names;	/* optional names, one per feature */
	/*
	 * XGBoost's monotone_constraints: per feature 1 (score never decreases
	 * as the feature grows), -1 (never increases) or 0; shorter than the
	 * width means 0 for the rest.  Non-empty switches on XGBoost 1.7's
	 * constrained evaluator (float gains, per-node weight bounds).
	 */
	sf_int_vec	monotone_constraints;
	int			calibrate;		/* SF_CALIB_* fitted on out-of-fold scores; not in the JSON */
	int			calibrate_folds;
	/*
	 * Not user parameters (not in the table): a progress callback, called
	 * when verbose is set.  Keep both NULL unless used: a params struct
	 * filled by sf_params_defaults alone must be zeroed first (or start from
	 * gbt_params_default()).
	 */
	void		(*progress) (void *ctx, const gbt_progress *pr);
	void	   *progress_ctx;
} gbt_params;

extern const sf_param_table gbt_params_table;

/* The defaults of gbt_params_table, progress callback NULL. */
extern gbt_params gbt_params_default(void);

/* Cross-field checks (base_score in (0, 1) for binary:logistic, ...). */
extern sf_status gbt_params_check(sf_env *env, const gbt_params *p);

/*
 * One tree in XGBoost's array layout: node 0 is the root; a leaf has
 * left = right = -1 and its value (eta already applied) in split_cond.
 * Every child index is greater than its parent's, so traversal ends.
 */
typedef struct gbt_tree
{
	int32_t		n_nodes;
	int32_t    *left;			/* (n_nodes) left child or -1 */
	int32_t    *right;			/* (n_nodes) right child or -1 */
	uint32_t   *split_index;	/* (n_nodes) feature of the split (0 for leaves) */
	float	   *split_cond;		/* (n_nodes) go left when x < split_cond; leaf value */
	uint8_t    *default_left;	/* (n_nodes) 1 when missing goes left */
	float	   *base_weight;	/* (n_nodes) node weight (leaves: times eta, as XGBoost) */
	float	   *loss_chg;		/* (n_nodes) gain of the split (0 for leaves) */
	float	   *sum_hess;		/* (n_nodes) hessian sum (cover) */
} gbt_tree;

/* A trained (or imported) ensemble.  Everything is owned by the model. */
typedef struct gbt_model
{
	uint32_t	n_features;		/* input width */
	int			objective;		/* GBT_OBJ_* */
	float		base_score;		/* as given (probability for logistic) */
	float		base_margin;	/* base_score in margin space (logit for logistic) */
	int32_t		n_trees;
	gbt_tree   *trees;			/* (n_trees) */
	int32_t		best_iteration; /* 0-based round kept by early stopping, else n_trees - 1 */
	/* evaluation log (SF_TAG_INFO, model_info) */
	int			eval_metric;	/* GBT_METRIC_* actually used (never AUTO) */
	int32_t		n_eval;			/* rounds run (>= n_trees) */
	double	   *eval_train;		/* (n_eval) training metric per round, NaN when skipped */
	double	   *eval_valid;		/* (n_eval) validation metric per round, or NULL */
	uint64_t	train_rows;		/* rows used for training (after the validation split) */
	/* scoring layout built by gbt_model_pack (NULL: score from the trees) */
	struct gbt_node *nodes;		/* every tree's nodes, tree after tree */
	int32_t    *roots;			/* (n_trees) index of each tree's root in nodes */
	int32_t    *depths;			/* (n_trees) depth of each tree (edges on the longest path) */
	struct gbt_fast *fast;		/* padded scorer (scfrisk/gbt_fast.h), NULL: walk the nodes */
} gbt_model;

/*
 * One node of the scoring layout: 16 bytes, so a walk touches one cache
 * line per node instead of one per array.  Children are absolute indices
 * into gbt_model.nodes; a leaf points to itself (so extra steps of a walk
 * stay on it), has GBT_LEAF_BIT set in feature and its value in cond.
 */
#define GBT_LEAF_BIT	0x40000000u
#define GBT_DL_BIT		0x80000000u
#define GBT_FEATURE_MASK 0x3FFFFFFFu
typedef struct gbt_node
{
	int32_t		left;
	int32_t		right;
	uint32_t	feature;		/* split feature, bit 31: missing goes left */
	float		cond;			/* go left when x < cond; leaf value */
} gbt_node;

/*
 * Build (or rebuild) the scoring layouts of m from its trees: the fast
 * scorer (gbt_fast_build, when the ensemble suits it) and the packed nodes
 * of the walk that scores the others.  gbt_train, gbt_decode and
 * gbt_from_xgb_json call it; call it after changing trees by hand.
 * SF_ENOMEM on failure (scoring then walks the trees directly).
 */
extern sf_status gbt_model_pack(sf_env *env, gbt_model *m);

/*
 * Train on x (n, p) row-major (NaN = missing), labels y (n; 0/1 for
 * binary:logistic with both classes present), weights w (n, >= 0, or NULL
 * for 1).  *out is allocated through env (free with gbt_model_free).
 * Returns SF_EDATA for unusable data, SF_EINVAL for bad params, SF_ECANCEL
 * when interrupted.  Uses env->threads worker threads, joined before return.
 */
extern sf_status gbt_train(sf_env *env, const double *x, const double *y, const double *w,
						   size_t n, uint32_t p, const gbt_params *params, gbt_model **out);
extern void gbt_model_free(sf_env *env, gbt_model *m);

/*
 * Score one row x (n_features doubles, NaN = missing): the probability for
 * binary:logistic, the value for regression (XGBoost 1.7's float32 math).
 */
extern double gbt_predict(const gbt_model *m, const double *x);

/*
 * The raw margin (base margin plus the leaf values, float32 sum) of one row,
 * with the fast scorer when m has one, else the packed walk.
 */
extern double gbt_predict_margin(const gbt_model *m, const double *x);

/*
 * The same margin by the reference walk: one tree at a time down the
 * node arrays of the trees, XGBoost's CPU predictor step by step.  Every
 * faster scorer is tested against it bit for bit.
 */
extern double gbt_predict_margin_reference(const gbt_model *m, const double *x);

/* Input width of the model. */
extern uint32_t gbt_n_features(const gbt_model *m);

/* ------------------------------------------------------------ importance */

typedef enum gbt_importance_type
{
	GBT_IMP_WEIGHT = 0,			/* number of splits on the feature */
	GBT_IMP_GAIN,				/* mean gain (loss_chg) of those splits */
	GBT_IMP_TOTAL_GAIN,			/* total gain */
	GBT_IMP_COVER,				/* mean cover (hessian sum) of those splits */
	GBT_IMP_TOTAL_COVER			/* total cover */
} gbt_importance_type;

/* Type from its name ("weight", "gain", ...): returns 0 and sets *t, or -1. */
extern int	gbt_importance_from_name(const char *name, gbt_importance_type *t);
extern const char *gbt_importance_name(gbt_importance_type t);

/*
 * Raw importance of every feature into out (n_features), XGBoost's
 * Booster.get_score definitions; features never split on get 0.
 */
extern sf_status gbt_importance(const gbt_model *m, gbt_importance_type type, double *out);

/* out[i] = raw[i] / sum(raw) (all 0 when the sum is 0); raw and out may alias. */
extern void gbt_importance_normalize(const double *raw, uint32_t n, double *out);

/* ------------------------------------------------------------ bytes */

/* Write the GBT_BODY_SECTIONS body sections with tags tag_base.. into b. */
extern void gbt_encode_body(const gbt_model *m, sf_buf *b, uint16_t tag_base);

/*
 * Read the body sections with tags tag_base.. of a decoded container into
 * *m (allocated through env), checking every invariant; n_features is the
 * width the trees may index.  SF_ECORRUPT with a message on failure.
 */
extern sf_status gbt_decode_body(sf_env *env, const sf_container *c, uint16_t tag_base,
								 uint32_t n_features, gbt_model *m);

/* Diagnostics JSON object (evaluation log, best iteration) appended to b. */
extern void gbt_info_json(const gbt_model *m, sf_buf *b);

/*
 * Whole model bytes of kind gbt: container, params JSON (p may be NULL for
 * an imported model), optional feature names (n_features strings or NULL),
 * rows, seed, info, body.  b must be initialised; it holds the bytes.
 */
extern sf_status gbt_encode(sf_env *env, const gbt_model *m, const gbt_params *p,
							const char *const *names, uint64_t rows, sf_buf *b);

/* Decode model bytes of kind gbt into *out (allocated through env). */
extern sf_status gbt_decode(sf_env *env, const uint8_t *buf, size_t len, gbt_model **out);

/* ------------------------------------------------------------ XGBoost JSON */

/*
 * The model as XGBoost 1.7's JSON model text (doc/model.schema: learner,
 * learner_model_param, objective, gradient_booster "gbtree", trees with
 * left_children, right_children, split_indices, split_conditions,
 * default_left, base_weights, loss_changes, sum_hessian, parents) appended
 * to out; names (n_features strings) or NULL become learner.feature_names.
 * Floats are written with 9 significant digits, so they read back exactly.
 */
extern sf_status gbt_to_xgb_json(sf_env *env, const gbt_model *m, const char *const *names,
								 sf_buf *out);

/*
 * Parse XGBoost JSON model text (objective binary:logistic or
 * reg:squarederror, booster gbtree, numeric splits only) into *out,
 * allocated through env.  names receives learner.feature_names (n = 0 when
 * absent), its strings allocated through env.  Any text either imports
 * into a model whose invariants hold or gives SF_EDATA (not a supported
 * XGBoost model) or SF_ECORRUPT (malformed trees) with a message.
 */
extern sf_status gbt_from_xgb_json(sf_env *env, const char *text, size_t len, gbt_model **out,
								   sf_str_list *names);

#endif							/* SCFRISK_GBT_H */
