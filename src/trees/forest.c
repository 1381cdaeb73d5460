/*
 * forest.c
 *	  CART trees and random forests (forest.h): the parameter tables of
 *	  tree_train and rf_train (scikit-learn's names and defaults), row
 *	  scoring, impurity importance and the model's lifecycle.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "scfrisk/forest.h"
#include "scfrisk/sf_governance.h"
#include "gbt_int.h"
#include "scfrisk/gbt_fast.h"

/* ------------------------------------------------------------ params */

static const char *const forest_objectives[] = {"binary", "regression", NULL};
static const char *const forest_criteria[] = {"auto", "gini", "entropy", "squared_error", NULL};
static const char *const forest_max_features[] = {"auto", "sqrt", "log2", "all", NULL};

static sf_status forest_params_validate(sf_env *env, const void *obj);

#define SPEC_OBJECTIVE \
	{"objective", SF_PT_ENUM, offsetof(forest_params, objective), FOREST_OBJ_BINARY, 0, 0, 0, 0, \
	forest_objectives, NULL, "binary (labels 0/1, probability of 1) or regression (mean label)"}
#define SPEC_CRITERION \
	{"criterion", SF_PT_ENUM, offsetof(forest_params, criterion), FOREST_CRIT_AUTO, 0, 0, 0, 0, \
	forest_criteria, NULL, "auto (gini for binary, squared_error for regression), gini, entropy or squared_error"}
#define SPEC_DEPTH \
	{"max_depth", SF_PT_INT, offsetof(forest_params, max_depth), FOREST_MAX_DEPTH, 1, FOREST_MAX_DEPTH, 0, 0, \
	NULL, NULL, "depth of the deepest leaf (root = 0); the default 64 is the cap"}
#define SPEC_SPLIT \
	{"min_samples_split", SF_PT_INT, offsetof(forest_params, min_samples_split), 2, 2, 1e9, 0, 0, \
	NULL, NULL, "fewest distinct rows of a node that may split"}
#define SPEC_LEAF \
	{"min_samples_leaf", SF_PT_INT, offsetof(forest_params, min_samples_leaf), 1, 1, 1e9, 0, 0, \
	NULL, NULL, "fewest distinct rows of a leaf"}
#define SPEC_MAXBIN \
	{"max_bin", SF_PT_INT, offsetof(forest_params, max_bin), GBT_DEFAULT_BIN, GBT_MIN_BIN, GBT_MAX_BIN, 0, 0, \
	NULL, NULL, "most histogram bins per feature (thresholds examined)"}
#define SPEC_SEED \
	{"seed", SF_PT_INT64, offsetof(forest_params, seed), 0, 0, 9.2e18, 0, 0, NULL, NULL, \
	"seed of the bootstrap samples and the feature draws"}
#define SPEC_VERBOSE \
	{"verbose", SF_PT_BOOL, offsetof(forest_params, verbose), 0, 0, 1, 0, 0, NULL, NULL, \
	"NOTICE lines with the trees grown and the time left", 1}
#define SPEC_MONO \
	{"monotone_constraints", SF_PT_INT_VEC, offsetof(forest_params, monotone_constraints), 0, -1, 1, 0, 0, \
	NULL, NULL, "per feature 1 (increasing), -1 (decreasing) or 0, as XGBoost's monotone_constraints"}
#define SPEC_NAMES \
	{"feature_names", SF_PT_STR_LIST, offsetof(forest_params, feature_names), 0, 0, FOREST_MAX_FEATURES, \
	0, 0, NULL, NULL, "names of the features, one per element of the features array"}

static const sf_param_spec forest_specs[] = {
	SPEC_OBJECTIVE,
	SPEC_CRITERION,
	{"n_estimators", SF_PT_INT, offsetof(forest_params, n_estimators), FOREST_DEFAULT_TREES, 1,
	FOREST_MAX_TREES, 0, 0, NULL, NULL, "number of trees"},
	SPEC_DEPTH,
	SPEC_SPLIT,
	SPEC_LEAF,
	{"max_features", SF_PT_ENUM, offsetof(forest_params, max_features), FOREST_MF_AUTO, 0, 0, 0, 0,
	forest_max_features, NULL,
	"features examined per node: auto (sqrt for binary, all for regression), sqrt, log2 or all"},
	{"bootstrap", SF_PT_BOOL, offsetof(forest_params, bootstrap), 1, 0, 1, 0, 0, NULL, NULL,
	"grow each tree on a bootstrap sample (else on every row)"},
	{"oob_score", SF_PT_BOOL, offsetof(forest_params, oob_score), 0, 0, 1, 0, 0, NULL, NULL,
	"score every row by the trees it was out of bag for: oob_auc, oob_accuracy in model_info"},
	SPEC_MAXBIN,
	SPEC_SEED,
	SPEC_MONO,
	SF_CALIB_PARAM_SPECS(forest_params, calibrate, calibrate_folds),
	SPEC_NAMES,
	SPEC_VERBOSE,
};

static const sf_param_spec cart_specs[] = {
	SPEC_OBJECTIVE,
	SPEC_CRITERION,
	SPEC_DEPTH,
	SPEC_SPLIT,
	SPEC_LEAF,
	{"max_features", SF_PT_ENUM, offsetof(forest_params, max_features), FOREST_MF_AUTO, 0, 0, 0, 0,
	forest_max_features, NULL,
	"features examined per node: auto (all), sqrt, log2 or all"},
	SPEC_MAXBIN,
	SPEC_SEED,
	SPEC_MONO,
	SF_CALIB_PARAM_SPECS(forest_params, calibrate, calibrate_folds),
	SPEC_NAMES,
	SPEC_VERBOSE,
};

const sf_param_table forest_params_table = {
	"rf_train", forest_specs, (int) (sizeof(forest_specs) / sizeof(forest_specs[0])),
	forest_params_validate
};

const sf_param_table cart_params_table = {
	"tree_train", cart_specs, (int) (sizeof(cart_specs) / sizeof(cart_specs[0])),
	forest_params_validate
};

static sf_status
forest_params_validate(sf_env *env, const void *obj)
{
	const forest_params *p = obj;

	if (p->objective == FOREST_OBJ_BINARY && p->criterion == FOREST_CRIT_SQUARED)
		return sf_fail(env, SF_EINVAL,
					   "criterion squared_error needs objective regression; binary takes gini or entropy");
	if (p->oob_score && !p->bootstrap)
		return sf_fail(env, SF_EINVAL, "oob_score needs bootstrap: without it no row is out of bag");
	if (p->objective == FOREST_OBJ_REGRESSION &&
		(p->criterion == FOREST_CRIT_GINI || p->criterion == FOREST_CRIT_ENTROPY))
		return sf_fail(env, SF_EINVAL,
					   "criterion %s needs objective binary; regression takes squared_error",
					   forest_criteria[p->criterion]);
	return SF_OK;
}

/* ------------------------------------------------------------ lifecycle */

void
forest_model_free(sf_env *env, forest_model *m)
{
	if (m == NULL)
		return;
	gbt_trees_free(env, m->trees, m->n_trees);
	gbt_fast_free(env, m->fast);
	sf_free(env, m);
}

/* ------------------------------------------------------------ scoring */

/* Leaf value of one tree for row x (float32 compares, gbt_tree_leaf). */
double
forest_tree_value(const gbt_tree *t, const double *x)
{
	return t->split_cond[gbt_tree_leaf(t, x)];
}

double
forest_predict(const forest_model *m, const double *x)
{
	double		sum = 0.0;
	int32_t		i;

	/* the same leaves added in the same order, so the same bits */
	if (m->fast != NULL)
		return gbt_fast_sum(m->fast, x) / m->n_trees;
	for (i = 0; i < m->n_trees; i++)
		sum += forest_tree_value(&m->trees[i], x);
	return sum / m->n_trees;
}

#define PREDICT_BLOCK 512		/* rows scored together, tree after tree */

typedef struct predict_ctx
{
	const forest_model *m;
	const double *x;
	size_t		n;
	double	   *out;
} predict_ctx;

static void
predict_block(void *arg, int task, int worker)
{
	const predict_ctx *c = arg;
	size_t		lo = (size_t) task * PREDICT_BLOCK,
				hi = lo + PREDICT_BLOCK < c->n ? lo + PREDICT_BLOCK : c->n,
				i;
	int32_t		t;

	for (i = lo; i < hi; i++)
		c->out[i] = 0.0;
	for (t = 0; t < c->m->n_trees; t++)
		for (i = lo; i < hi; i++)
			c->out[i] += forest_tree_value(&c->m->trees[t], c->x + i * c->m->n_features);
	for (i = lo; i < hi; i++)
		c->out[i] /= c->m->n_trees;
}

void
forest_predict_rows(sf_env *env, const forest_model *m, const double *x, size_t n, double *out)
{
	predict_ctx c = {m, x, n, out};
	size_t		blocks = (n + PREDICT_BLOCK - 1) / PREDICT_BLOCK;

	if (blocks > 0)
		gbt_parallel(env, (int) blocks, predict_block, &c);
}

/* ------------------------------------------------------------ importance */

sf_status
forest_importance(sf_env *env, const forest_model *m, double *out)
{
	double	   *one = sf_calloc(env, m->n_features ? m->n_features : 1, sizeof(double));
	double		total = 0.0;
	uint32_t	j;
	int32_t		i,
				k;

	if (one == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory computing importance");
	memset(out, 0, sizeof(double) * m->n_features);
	for (i = 0; i < m->n_trees; i++)
	{
		const gbt_tree *t = &m->trees[i];
		double		s = 0.0;

		memset(one, 0, sizeof(double) * m->n_features);
		for (k = 0; k < t->n_nodes; k++)
			if (t->left[k] >= 0)
				one[t->split_index[k]] += t->loss_chg[k];
		for (j = 0; j < m->n_features; j++)
			s += one[j];
		/* a tree that never split (a stump leaf) adds nothing, as in scikit-learn */
		if (s > 0.0)
			for (j = 0; j < m->n_features; j++)
				out[j] += one[j] / s;
	}
	for (j = 0; j < m->n_features; j++)
		total += out[j];
	for (j = 0; j < m->n_features; j++)
		out[j] = total > 0.0 ? out[j] / total : 0.0;
	sf_free(env, one);
	return SF_OK;
}
