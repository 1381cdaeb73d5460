/*
 * sf_explain.h
 *	  Per-row explanations: contributions of every feature to one row's
 *	  margin (log-odds for classifiers), adding up with a bias term to the
 *	  model's margin, and the background sample that the model-agnostic
 *	  methods need.  docs/explain.md describes the methods.
 *
 * Contributions are written to phi[0..d) with the bias in phi[d], as
 * XGBoost's pred_contribs lays them out.  Methods:
 *	- gbt: exact path-dependent TreeSHAP (Lundberg et al. 2018, algorithm 2),
 *	  XGBoost's TreeShap on the node covers (sum_hess), missing values
 *	  following the default branch;
 *	- logreg: exact Shapley values of a linear margin against the training
 *	  rows, w_j (x_j - mean_j), with the training means stored as the one
 *	  background row;
 *	- cart and forest: TreeSHAP averaged over the trees, on the score scale;
 *	- gaussian_nb: exact additive contributions of its log-odds;
 *	- linear_svm: exact linear contributions of its Platt log-odds;
 *	- mlp and xgb_mlp: interventional Shapley values against the stored
 *	  background sample: exact enumeration of every coalition up to
 *	  SF_SHAPLEY_EXACT_MAX players, otherwise a seeded estimator over
 *	  antithetic permutation pairs, with a standard error per feature.
 *	  Both add up exactly (in floating point, up to rounding) to the margin
 *	  minus the background's mean margin, which is the bias.
 */
#ifndef SCFRISK_SF_EXPLAIN_H
#define SCFRISK_SF_EXPLAIN_H

#include "scfrisk/sf_container.h"

/* Common section of the background sample (optional; models from 0.2.0). */
#define SF_TAG_BACKGROUND	9

#define SF_BACKGROUND_ROWS	100		/* rows sampled at training time */
#define SF_BACKGROUND_MAX_ROWS 4096	/* decoder's cap */
#define SF_SHAPLEY_PERMUTATIONS 512	/* permutations of the estimator (even) */
#define SF_SHAPLEY_EXACT_MAX 8		/* players up to which coalitions are enumerated */

/*
 * A background sample: rows drawn without replacement from the training
 * rows (in the row store's canonical order) with a seeded generator.  NaN
 * elements are missing values (for kinds whose scorer accepts them).
 */
typedef struct sf_background
{
	uint32_t	n_rows;			/* 0: the model has no background section */
	uint32_t	n_cols;			/* = the model's n_features */
	uint32_t	n_permutations; /* permutations of the sampling estimator (even, >= 2) */
	uint64_t	seed;			/* seed of the estimator's permutations */
	double	   *x;				/* (n_rows, n_cols) row-major, owned */
} sf_background;

/*
 * Draw min(n, SF_BACKGROUND_ROWS) of the n rows of x (n, d), doubles (xd) or
 * float32 (xf: exactly one is set), without replacement, seeded, keeping
 * their order.  Infinite elements are SF_EDATA (the row stores reject them).
 */
extern sf_status sf_background_sample(sf_env *env, const double *xd, const float *xf,
									  size_t n, uint32_t d, uint64_t seed, sf_background *out);
extern void sf_background_free(sf_env *env, sf_background *bg);

/*
 * One background row, the column means of the n rows of x (n, d), all
 * finite: for a linear margin the Shapley values against the training rows
 * depend on their mean only, so this is the exact reference.
 */
extern sf_status sf_background_mean(sf_env *env, const double *x, size_t n, uint32_t d,
									sf_background *out);

/* The section body: u32 rows, u32 cols, u32 permutations, u64 seed, f64 x. */
extern void sf_background_encode(const sf_background *bg, sf_buf *b);

/* Check a section body against the model width: SF_ECORRUPT naming the fault. */
extern sf_status sf_background_check(sf_env *env, const uint8_t *data, uint64_t len,
									 uint32_t n_features);

/* Read the section of a decoded container into *bg (n_rows 0 when absent). */
extern sf_status sf_background_decode(sf_env *env, const sf_container *c, sf_background *bg);

/*
 * New model bytes: buf with one common section (tag < SF_TAG_BODY, not
 * already present) inserted in tag order and the header's length and
 * checksum recomputed, into out (initialised by the caller).  Lets a training
 * wrapper add an optional section to what the kind's encoder wrote.
 */
extern sf_status sf_container_add_section(sf_env *env, const uint8_t *buf, size_t len,
										  uint16_t tag, const uint8_t *data, size_t dlen,
										  sf_buf *out);

/* ------------------------------------------------------------ methods */

struct gbt_model;
struct logreg_model;
struct mlp_model;
struct xgb_mlp_model;

/* TreeSHAP of one row x (n_features, NaN = missing) into phi (n_features + 1). */
extern sf_status sf_treeshap(sf_env *env, const struct gbt_model *m, const double *x, double *phi);

/* A model's margin of one full-width row. */
typedef double (*sf_margin_fn) (const void *ctx, const double *x);

/*
 * Interventional Shapley values of f at x against the background rows.
 * The players are the n_players features players[] (0-based, increasing);
 * other features keep x's value and get contribution 0 (f must not depend
 * on them).  phi and se (n_cols + 1; se may be NULL) receive contributions,
 * bias in phi[n_cols], and standard errors (0 for exact enumeration).
 */
extern sf_status sf_shapley(sf_env *env, sf_margin_fn f, const void *ctx,
							const sf_background *bg, const uint32_t *players, uint32_t n_players,
							const double *x, double *phi, double *se);

/* Margin of an MLP (the output layer's affine value: log-odds for binary). */
extern double sf_mlp_margin(const struct mlp_model *m, const double *x);

/* Per-kind methods, in the table of kinds' explain signature. */
extern sf_status sf_explain_gbt(sf_env *env, const void *model, const sf_background *bg,
								const double *x, double *phi, double *se);
extern sf_status sf_explain_logreg(sf_env *env, const void *model, const sf_background *bg,
								   const double *x, double *phi, double *se);
extern sf_status sf_explain_mlp(sf_env *env, const void *model, const sf_background *bg,
								const double *x, double *phi, double *se);
extern sf_status sf_explain_xgb_mlp(sf_env *env, const void *model, const sf_background *bg,
									const double *x, double *phi, double *se);

/*
 * Trees and forests (tree_train, rf_train): path-dependent TreeSHAP of every
 * tree, averaged, on the scale of the model's score (the mean of the leaf
 * values: a probability for binary models, as shap's TreeExplainer explains
 * scikit-learn forests), which is the margin these kinds have.
 */
extern sf_status sf_explain_forest(sf_env *env, const void *model, const sf_background *bg,
								   const double *x, double *phi, double *se);

/*
 * Gaussian naive Bayes: its log-odds are additive over the features,
 * log(prior1/prior0) + sum_j g_j(x_j), so the exact Shapley values against
 * the training rows are g_j(x_j) - E[g_j(X_j)], the expectation taken in
 * closed form over the training distribution the model stores (class shares,
 * means and variances).  No background section is needed.
 */
extern sf_status sf_explain_nb(sf_env *env, const void *model, const sf_background *bg,
							   const double *x, double *phi, double *se);

/*
 * Linear SVM with Platt scaling: log-odds -(A (w.x + b) + B) are linear, so
 * the contributions are -A w_j (x_j - mean_j) against the training means
 * stored as the one background row, as for logreg.
 */
extern sf_status sf_explain_svm(sf_env *env, const void *model, const sf_background *bg,
								const double *x, double *phi, double *se);

/* ------------------------------------------------------------ explainer */

/*
 * Everything explain needs of one model, decoded once and cached by the SQL
 * wrapper: the kind's entry and model, the background and the names.
 */
typedef struct sf_explainer
{
	const struct sf_kind *kind;
	void	   *model;			/* the kind's decoded model */
	uint32_t	n_features;
	sf_background bg;			/* n_rows 0 when the model has none */
	char	  **names;			/* (n_features) NUL-terminated, or NULL */
	struct sf_treeshap_plan *treeshap;	/* tree kinds: TreeSHAP's tables (explain_treeshap.h) */
} sf_explainer;

/*
 * SfDecodeFn-shaped decoder of an sf_explainer (allocated through env); for
 * the tree kinds (gbt, cart, forest) it also builds TreeSHAP's tables.
 */
extern sf_status sf_explainer_decode(sf_env *env, const uint8_t *buf, size_t len, void **out);

/*
 * Explain x with the explainer: the kind's method, or for the tree kinds
 * the precomputed TreeSHAP (the same values as their method to rounding,
 * se all 0).  The caller has checked that the kind has a method.
 */
extern sf_status sf_explainer_explain(sf_env *env, const sf_explainer *e, const double *x,
									  double *phi, double *se);

/*
 * Reason codes: the indices (0-based) of the at most k contributions of
 * phi[0..d) with the largest value (adverse: pushing the margin up, towards
 * the positive class) or the smallest (favorable), strictly positive
 * (negative) ones only, ties by feature index.  Returns how many were
 * written to idx (k slots).
 */
extern uint32_t sf_reason_codes(const double *phi, uint32_t d, uint32_t k, int adverse,
								uint32_t *idx);

#endif							/* SCFRISK_SF_EXPLAIN_H */
