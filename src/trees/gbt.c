/*
 * gbt.c
 *	  Gradient-boosted trees: the parameter table (XGBoost's names, defaults
 *	  and ranges), row scoring with XGBoost 1.7's float32 arithmetic, feature
 *	  importance, and the lifecycle of models and trees.
 *
 * Scoring reproduces XGBoost's CPU predictor: the features are converted to
 * float32, a node sends x left when x < split_condition, a missing value
 * follows default_left, and leaf values are added in float32 to the float32
 * base margin tree after tree; the probability is 1 / (1 + expf(-margin)).
 * Importance follows Booster.get_score: weight counts splits on a feature,
 * total_gain and total_cover sum their loss_chg and hessian sums (cover),
 * gain and cover divide those by the weight.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "gbt_int.h"
#include "scfrisk/gbt_fast.h"
#include "scfrisk/sf_governance.h"

/* ------------------------------------------------------------ params */

static const char *const gbt_objectives[] = {"binary:logistic", "reg:squarederror", NULL};
static const char *const gbt_metrics[] = {"auto", "logloss", "auc", "rmse", NULL};

static sf_status gbt_params_validate(sf_env *env, const void *obj);

static const sf_param_spec gbt_specs[] = {
	{"objective", SF_PT_ENUM, offsetof(gbt_params, objective), GBT_OBJ_BINARY, 0, 0, 0, 0, gbt_objectives, NULL,
	"binary:logistic (probability, log-loss) or reg:squarederror"},
	{"n_estimators", SF_PT_INT, offsetof(gbt_params, n_estimators), GBT_DEFAULT_ROUNDS, 1, GBT_MAX_ROUNDS, 0, 0, NULL, NULL,
	"boosting rounds (trees)"},
	{"max_depth", SF_PT_INT, offsetof(gbt_params, max_depth), GBT_DEFAULT_DEPTH, GBT_MIN_DEPTH, GBT_MAX_DEPTH, 0, 0, NULL, NULL,
	"depth of each tree"},
	{"eta", SF_PT_DOUBLE, offsetof(gbt_params, eta), 0.3, 0, 1, 1, 0, NULL, NULL,
	"learning rate (shrinkage of the leaf values)"},
	{"lambda", SF_PT_DOUBLE, offsetof(gbt_params, lambda), 1.0, 0, 1e12, 0, 0, NULL, NULL,
	"L2 penalty on leaf weights"},
	{"alpha", SF_PT_DOUBLE, offsetof(gbt_params, alpha), 0.0, 0, 1e12, 0, 0, NULL, NULL,
	"L1 penalty on leaf weights"},
	{"gamma", SF_PT_DOUBLE, offsetof(gbt_params, gamma), 0.0, 0, 1e12, 0, 0, NULL, NULL,
	"minimum loss reduction of a split"},
	{"min_child_weight", SF_PT_DOUBLE, offsetof(gbt_params, min_child_weight), 1.0, 0, 1e12, 0, 0, NULL, NULL,
	"minimum hessian sum of a child"},
	{"max_delta_step", SF_PT_DOUBLE, offsetof(gbt_params, max_delta_step), 0.0, 0, 1e12, 0, 0, NULL, NULL,
	"cap on the absolute leaf weight, 0 = none"},
	{"subsample", SF_PT_DOUBLE, offsetof(gbt_params, subsample), 1.0, 0, 1, 1, 0, NULL, NULL,
	"share of rows sampled for each tree"},
	{"colsample_bytree", SF_PT_DOUBLE, offsetof(gbt_params, colsample_bytree), 1.0, 0, 1, 1, 0, NULL, NULL,
	"share of features sampled for each tree"},
	{"colsample_bylevel", SF_PT_DOUBLE, offsetof(gbt_params, colsample_bylevel), 1.0, 0, 1, 1, 0, NULL, NULL,
	"share of the tree's features sampled for each level"},
	{"max_bin", SF_PT_INT, offsetof(gbt_params, max_bin), GBT_DEFAULT_BIN, GBT_MIN_BIN, GBT_MAX_BIN, 0, 0, NULL, NULL,
	"most histogram bins per feature"},
	{"scale_pos_weight", SF_PT_DOUBLE, offsetof(gbt_params, scale_pos_weight), 1.0, 0, 1e12, 1, 0, NULL, NULL,
	"weight multiplier of rows with label 1"},
	{"base_score", SF_PT_DOUBLE, offsetof(gbt_params, base_score), 0.5, -1e30, 1e30, 0, 0, NULL, NULL,
	"initial prediction (a probability for binary:logistic)"},
	{"seed", SF_PT_INT64, offsetof(gbt_params, seed), 0, 0, 9.2e18, 0, 0, NULL, NULL,
	"seed of row and feature sampling and of the validation split"},
	{"early_stopping_rounds", SF_PT_INT, offsetof(gbt_params, early_stopping_rounds), 0, 0, GBT_MAX_ROUNDS, 0, 0, NULL, NULL,
	"rounds without validation improvement before stopping, 0 = off"},
	{"validation_share", SF_PT_DOUBLE, offsetof(gbt_params, validation_share), 0.2, 0, 1, 1, 1, NULL, NULL,
	"share of rows held out for early stopping"},
	{"eval_metric", SF_PT_ENUM, offsetof(gbt_params, eval_metric), GBT_METRIC_AUTO, 0, 0, 0, 0, gbt_metrics, NULL,
	"auto (logloss or rmse), logloss, auc or rmse"},
	{"verbose", SF_PT_BOOL, offsetof(gbt_params, verbose), 0, 0, 1, 0, 0, NULL, NULL,
	"report the evaluation every verbose_every rounds"},
	{"verbose_every", SF_PT_INT, offsetof(gbt_params, verbose_every), 10, 1, GBT_MAX_ROUNDS, 0, 0, NULL, NULL,
	"rounds between progress reports"},
	{"feature_names", SF_PT_STR_LIST, offsetof(gbt_params, feature_names), 0, 0, GBT_MAX_FEATURES, 0, 0, NULL, NULL,
	"names of the features, one per element of the features array"},
	{"monotone_constraints", SF_PT_INT_VEC, offsetof(gbt_params, monotone_constraints), 0, -1, 1, 0, 0, NULL, NULL,
	"per feature 1 (increasing), -1 (decreasing) or 0, as XGBoost's monotone_constraints"},
	SF_CALIB_PARAM_SPECS(gbt_params, calibrate, calibrate_folds),
};

const sf_param_table gbt_params_table = {
	"xgb_train", gbt_specs, (int) (sizeof(gbt_specs) / sizeof(gbt_specs[0])), gbt_params_validate
};

gbt_params
gbt_params_default(void)
{
	gbt_params	p;

	memset(&p, 0, sizeof(p));
	sf_params_defaults(&gbt_params_table, &p);
	p.progress = NULL;
	p.progress_ctx = NULL;
	return p;
}

static sf_status
gbt_params_validate(sf_env *env, const void *obj)
{
	return gbt_params_check(env, (const gbt_params *) obj);
}

sf_status
gbt_params_check(sf_env *env, const gbt_params *p)
{
	if (p->objective == GBT_OBJ_BINARY && !(p->base_score > 0.0 && p->base_score < 1.0))
		return sf_fail(env, SF_EINVAL,
					   "base_score must lie in (0, 1) for binary:logistic, got %g", p->base_score);
	if (p->objective == GBT_OBJ_REGRESSION &&
		(p->eval_metric == GBT_METRIC_LOGLOSS || p->eval_metric == GBT_METRIC_AUC))
		return sf_fail(env, SF_EINVAL,
					   "eval_metric %s needs objective binary:logistic", gbt_metrics[p->eval_metric]);
	return SF_OK;
}

/* ------------------------------------------------------------ lifecycle */

sf_status
gbt_tree_alloc(sf_env *env, gbt_tree *t, int32_t n_nodes)
{
	size_t		n = n_nodes > 0 ? (size_t) n_nodes : 1;

	memset(t, 0, sizeof(*t));
	if (!sf_alloc_all(env, SF_CALLOC_N(t->left, n), SF_CALLOC_N(t->right, n), SF_CALLOC_N(t->split_index, n),
					  SF_CALLOC_N(t->split_cond, n), SF_CALLOC_N(t->default_left, n),
					  SF_CALLOC_N(t->base_weight, n), SF_CALLOC_N(t->loss_chg, n), SF_CALLOC_N(t->sum_hess, n)))
		return sf_fail(env, SF_ENOMEM, "out of memory allocating a tree of %d nodes", (int) n_nodes);
	t->n_nodes = n_nodes;
	return SF_OK;
}

void
gbt_tree_free(sf_env *env, gbt_tree *t)
{
	sf_free_all(env, t->left, t->right, t->split_index, t->split_cond, t->default_left, t->base_weight,
				t->loss_chg, t->sum_hess);
	memset(t, 0, sizeof(*t));
}

void
gbt_trees_free(sf_env *env, gbt_tree *trees, int32_t n_trees)
{
	int32_t		i;

	for (i = 0; trees && i < n_trees; i++)
		gbt_tree_free(env, &trees[i]);
	sf_free(env, trees);
}

void
gbt_trees_size(const gbt_tree *trees, int32_t n_trees, int64_t *nodes, int64_t *leaves)
{
	int32_t		i,
				k;

	*nodes = 0;
	*leaves = 0;
	for (i = 0; i < n_trees; i++)
	{
		*nodes += trees[i].n_nodes;
		for (k = 0; k < trees[i].n_nodes; k++)
			*leaves += trees[i].left[k] < 0;
	}
}

void
gbt_model_clear(sf_env *env, gbt_model *m)
{
	gbt_trees_free(env, m->trees, m->n_trees);
	gbt_fast_free(env, m->fast);
	sf_free_all(env, m->eval_train, m->eval_valid, m->nodes, m->roots, m->depths);
	memset(m, 0, sizeof(*m));
}

void
gbt_model_free(sf_env *env, gbt_model *m)
{
	if (m == NULL)
		return;
	gbt_model_clear(env, m);
	sf_free(env, m);
}

uint32_t
gbt_n_features(const gbt_model *m)
{
	return m->n_features;
}

/* ------------------------------------------------------------ scoring */

#define GBT_STACK_FEATURES 256
#define GBT_LANES	8		/* trees walked side by side */

sf_status
gbt_model_pack(sf_env *env, gbt_model *m)
{
	size_t		total = 0;
	int32_t		i,
				k;
	gbt_node   *nodes;
	int32_t    *roots,
			   *depths,
			   *d;

	sf_status	st;

	sf_free(env, m->nodes);
	sf_free(env, m->roots);
	sf_free(env, m->depths);
	gbt_fast_free(env, m->fast);
	m->nodes = NULL;
	m->roots = NULL;
	m->depths = NULL;
	m->fast = NULL;
	if ((st = gbt_fast_build(env, m->trees, m->n_trees, m->n_features, 0, &m->fast)) != SF_OK)
		return st;
	for (i = 0; i < m->n_trees; i++)
		total += (size_t) m->trees[i].n_nodes;
	nodes = sf_malloc(env, sizeof(gbt_node) * (total ? total : 1));
	roots = sf_malloc(env, sizeof(int32_t) * (m->n_trees ? (size_t) m->n_trees : 1));
	depths = sf_malloc(env, sizeof(int32_t) * (m->n_trees ? (size_t) m->n_trees : 1));
	d = sf_malloc(env, sizeof(int32_t) * (total ? total : 1));
	if (nodes == NULL || roots == NULL || depths == NULL || d == NULL || total > INT32_MAX)
	{
		sf_free(env, nodes);
		sf_free(env, roots);
		sf_free(env, depths);
		sf_free(env, d);
		return sf_fail(env, SF_ENOMEM, "out of memory packing the trees for scoring");
	}
	total = 0;
	for (i = 0; i < m->n_trees; i++)
	{
		const gbt_tree *t = &m->trees[i];
		int32_t		base = (int32_t) total;

		roots[i] = base;
		depths[i] = 0;
		d[0] = 0;
		for (k = 0; k < t->n_nodes; k++)
		{
			gbt_node   *n = &nodes[base + k];

			if (t->left[k] < 0)
			{
				n->left = n->right = base + k;
				n->feature = GBT_LEAF_BIT;
			}
			else
			{
				/* children come after their parent (checked by the decoders) */
				n->left = base + t->left[k];
				n->right = base + t->right[k];
				n->feature = t->split_index[k] | (t->default_left[k] ? GBT_DL_BIT : 0);
				d[t->left[k]] = d[t->right[k]] = d[k] + 1;
				if (d[k] + 1 > depths[i])
					depths[i] = d[k] + 1;
			}
			n->cond = t->split_cond[k];
		}
		total += (size_t) t->n_nodes;
	}
	sf_free(env, d);
	m->nodes = nodes;
	m->roots = roots;
	m->depths = depths;
	return SF_OK;
}

/* One step of a walk: the child for x, or the node itself at a leaf. */
static inline int32_t
packed_step(const gbt_node *n, const float *x)
{
	float		v = x[n->feature & GBT_FEATURE_MASK];
	/* missing follows the default direction; both tests are branch-free */
	int			left = (v < n->cond) | ((v != v) & (int) (n->feature >> 31));

	return left ? n->left : n->right;
}

/* The reference walk: one tree at a time down its node arrays. */
static float
margin_reference(const gbt_model *m, const double *x)
{
	float		s = m->base_margin;
	int32_t		i;

	for (i = 0; i < m->n_trees; i++)
	{
		const gbt_tree *t = &m->trees[i];

		s += t->split_cond[gbt_tree_leaf(t, x)];
	}
	return s;
}

/*
 * The packed walk, for ensembles the fast scorer declines (deep and
 * sparse): GBT_LANES trees side by side for as many steps as the deepest
 * of them needs (a leaf steps to itself).  The walks are independent
 * chains of loads that the CPU overlaps, with no branch to mispredict.
 * Leaves are still added in tree order.
 */
static float
margin_packed(const gbt_model *m, const double *x)
{
	float		xf[GBT_STACK_FEATURES];
	float		s = m->base_margin;
	const gbt_node *nodes = m->nodes;
	uint32_t	j;
	int32_t		i;

	for (j = 0; j < m->n_features; j++)
		xf[j] = (float) x[j];
	for (i = 0; i < m->n_trees; i += GBT_LANES)
	{
		int32_t		k[GBT_LANES];
		int			l,
					step,
					lanes = m->n_trees - i < GBT_LANES ? m->n_trees - i : GBT_LANES,
					depth = 0;

		for (l = 0; l < lanes; l++)
		{
			k[l] = m->roots[i + l];
			if (m->depths[i + l] > depth)
				depth = m->depths[i + l];
		}
		if (lanes == GBT_LANES)
		{
			for (step = 0; step < depth; step++)
				for (l = 0; l < GBT_LANES; l++)
					k[l] = packed_step(&nodes[k[l]], xf);
		}
		else
			for (step = 0; step < depth; step++)
				for (l = 0; l < lanes; l++)
					k[l] = packed_step(&nodes[k[l]], xf);
		for (l = 0; l < lanes; l++)
			s += nodes[k[l]].cond;
	}
	return s;
}

static float
margin_f(const gbt_model *m, const double *x)
{
	if (m->fast != NULL)
		return gbt_fast_margin(m->fast, x, m->base_margin);
	/* wide models: the reference walk converts only the features it reads */
	if (m->n_features > GBT_STACK_FEATURES || m->nodes == NULL)
		return margin_reference(m, x);
	return margin_packed(m, x);
}

double
gbt_predict_margin_reference(const gbt_model *m, const double *x)
{
	return (double) margin_reference(m, x);
}

double
gbt_predict_margin(const gbt_model *m, const double *x)
{
	return (double) margin_f(m, x);
}

double
gbt_predict(const gbt_model *m, const double *x)
{
	float		s = margin_f(m, x);

	if (m->objective == GBT_OBJ_BINARY)
		return (double) (1.0f / (1.0f + expf(-s)));
	return (double) s;
}

/* ------------------------------------------------------------ importance */

static const char *const gbt_importance_names[] = {"weight", "gain", "total_gain", "cover", "total_cover"};

int
gbt_importance_from_name(const char *name, gbt_importance_type *t)
{
	int			i;

	for (i = 0; i < 5; i++)
		if (strcmp(name, gbt_importance_names[i]) == 0)
		{
			*t = (gbt_importance_type) i;
			return 0;
		}
	return -1;
}

const char *
gbt_importance_name(gbt_importance_type t)
{
	return (int) t >= 0 && (int) t < 5 ? gbt_importance_names[t] : "?";
}

/* Number of splits on feature f (the wide-model path of the means). */
static double
split_count(const gbt_model *m, uint32_t f)
{
	double		c = 0.0;
	int32_t		i,
				k;

	for (i = 0; i < m->n_trees; i++)
		for (k = 0; k < m->trees[i].n_nodes; k++)
			if (m->trees[i].left[k] >= 0 && m->trees[i].split_index[k] == f)
				c += 1.0;
	return c;
}

sf_status
gbt_importance(const gbt_model *m, gbt_importance_type type, double *out)
{
	double		cnt[GBT_STACK_FEATURES];
	int			small = m->n_features <= GBT_STACK_FEATURES;
	uint32_t	j;
	int32_t		i,
				k;

	if ((int) type < 0 || (int) type > GBT_IMP_TOTAL_COVER)
		return SF_EINVAL;
	for (j = 0; j < m->n_features; j++)
		out[j] = 0.0;
	if (small)
		for (j = 0; j < m->n_features; j++)
			cnt[j] = 0.0;
	for (i = 0; i < m->n_trees; i++)
	{
		const gbt_tree *t = &m->trees[i];

		for (k = 0; k < t->n_nodes; k++)
		{
			uint32_t	f = t->split_index[k];

			if (t->left[k] < 0)
				continue;
			if (type == GBT_IMP_WEIGHT)
				out[f] += 1.0;
			else if (type == GBT_IMP_GAIN || type == GBT_IMP_TOTAL_GAIN)
				out[f] += t->loss_chg[k];
			else
				out[f] += t->sum_hess[k];
			if (small)
				cnt[f] += 1.0;
		}
	}
	if (type == GBT_IMP_GAIN || type == GBT_IMP_COVER)
		for (j = 0; j < m->n_features; j++)
		{
			/* a wide model counts per feature with a split (no allocation here) */
			double		c = out[j] == 0.0 ? 0.0 : small ? cnt[j] : split_count(m, j);

			out[j] = c > 0.0 ? out[j] / c : 0.0;
		}
	return SF_OK;
}

void
gbt_importance_normalize(const double *raw, uint32_t n, double *out)
{
	double		s = 0.0;
	uint32_t	j;

	for (j = 0; j < n; j++)
		s += raw[j];
	for (j = 0; j < n; j++)
		out[j] = s > 0.0 ? raw[j] / s : 0.0;
}
