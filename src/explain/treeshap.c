/*
 * treeshap.c
 *	  Exact path-dependent TreeSHAP of gradient-boosted trees (Lundberg, Erion
 *	  and Lee 2018, "Consistent individualized feature attribution for tree
 *	  ensembles", algorithm 2), as XGBoost 1.7's RegTree::TreeShap computes
 *	  pred_contribs.
 *
 * For each tree the contributions add up to the leaf x reaches minus the
 * tree's expected value (the cover-weighted mean of its leaves); the bias
 * is the base margin plus every tree's expected value.  The "hot" branch of
 * a node is the one x follows (the default branch for a missing value); the
 * cold branch is weighted by its share of the node's cover.  Arithmetic is
 * in double (XGBoost's is float32), so the figures agree to about 1e-6.
 *
 * This walk is the reference: the explainer uses the tables of
 * treeshap_plan.c (the same values, O(depth) times fewer operations a row),
 * which fall back on it per tree (sf_ts_reference_tree) beyond their budget,
 * and the unit tests compare the two.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/gbt.h"
#include "scfrisk/sf_explain.h"
#include "scfrisk/forest.h"
#include "treeshap_int.h"

typedef struct shap_ctx
{
	const gbt_tree *t;
	const double *x;
	double	   *phi;
} shap_ctx;

static void
extend_path(sf_ts_path *p, int depth, double zero, double one, int feature)
{
	int			i;

	p[depth].feature = feature;
	p[depth].zero_fraction = zero;
	p[depth].one_fraction = one;
	p[depth].pweight = depth == 0 ? 1.0 : 0.0;
	for (i = depth - 1; i >= 0; i--)
	{
		p[i + 1].pweight += one * p[i].pweight * (i + 1) / (double) (depth + 1);
		p[i].pweight = zero * p[i].pweight * (depth - i) / (double) (depth + 1);
	}
}

static void
unwind_path(sf_ts_path *p, int depth, int index)
{
	double		one = p[index].one_fraction;
	double		zero = p[index].zero_fraction;
	double		next = p[depth].pweight;
	int			i;

	for (i = depth - 1; i >= 0; i--)
	{
		if (one != 0)
		{
			double		tmp = p[i].pweight;

			p[i].pweight = next * (depth + 1) / ((i + 1) * one);
			next = tmp - p[i].pweight * zero * (depth - i) / (double) (depth + 1);
		}
		else
			p[i].pweight = p[i].pweight * (depth + 1) / (zero * (depth - i));
	}
	for (i = index; i < depth; i++)
	{
		p[i].feature = p[i + 1].feature;
		p[i].zero_fraction = p[i + 1].zero_fraction;
		p[i].one_fraction = p[i + 1].one_fraction;
	}
}

/* Total permutation weight of the path with element 'index' unwound. */
static double
unwound_sum(const sf_ts_path *p, int depth, int index)
{
	double		one = p[index].one_fraction;
	double		zero = p[index].zero_fraction;
	double		next = p[depth].pweight;
	double		total = 0;
	int			i;

	for (i = depth - 1; i >= 0; i--)
	{
		if (one != 0)
		{
			double		tmp = next * (depth + 1) / ((i + 1) * one);

			total += tmp;
			next = p[i].pweight - tmp * zero * ((depth - i) / (double) (depth + 1));
		}
		else if (zero != 0)
			total += (p[i].pweight / zero) / ((depth - i) / (double) (depth + 1));
	}
	return total;
}

/*
 * Share of node k's cover that went to child c.  A node without cover
 * (possible with min_child_weight 0) splits its weight evenly rather than
 * dividing by zero.
 */
double
sf_ts_cover_share(const gbt_tree *t, int k, int c)
{
	double		w = t->sum_hess[k];

	return w > 0 ? (double) t->sum_hess[c] / w : 0.5;
}

static void
tree_shap(shap_ctx *s, int node, int depth, sf_ts_path *parent, double parent_zero,
		  double parent_one, int parent_feature)
{
	const gbt_tree *t = s->t;
	sf_ts_path    *p = parent + depth + 1;
	int			hot,
				cold,
				index,
				i;
	uint32_t	f;
	double		in_zero = 1,
				in_one = 1;

	memcpy(p, parent, sizeof(sf_ts_path) * (size_t) (depth + 1));
	extend_path(p, depth, parent_zero, parent_one, parent_feature);

	if (t->left[node] < 0)
	{
		for (i = 1; i <= depth; i++)
		{
			double		w = unwound_sum(p, depth, i);

			s->phi[p[i].feature] += w * (p[i].one_fraction - p[i].zero_fraction) *
				(double) t->split_cond[node];
		}
		return;
	}

	f = t->split_index[node];
	if (isnan(s->x[f]))
		hot = t->default_left[node] ? t->left[node] : t->right[node];
	else
		hot = (float) s->x[f] < t->split_cond[node] ? t->left[node] : t->right[node];
	cold = hot == t->left[node] ? t->right[node] : t->left[node];

	/* a feature split on again higher up: undo that split, redo it here */
	for (index = 0; index <= depth; index++)
		if (p[index].feature == (int) f)
			break;
	if (index != depth + 1)
	{
		in_zero = p[index].zero_fraction;
		in_one = p[index].one_fraction;
		unwind_path(p, depth, index);
		depth--;
	}
	tree_shap(s, hot, depth + 1, p, sf_ts_cover_share(t, node, hot) * in_zero, in_one, (int) f);
	tree_shap(s, cold, depth + 1, p, sf_ts_cover_share(t, node, cold) * in_zero, 0, (int) f);
}

/* Cover-weighted mean of the leaves below node k (XGBoost's node mean value). */
double
sf_ts_node_mean(const gbt_tree *t, int k)
{
	int			l = t->left[k],
				r = t->right[k];

	if (l < 0)
		return (double) t->split_cond[k];
	if (!(t->sum_hess[k] > 0))
		return 0.5 * (sf_ts_node_mean(t, l) + sf_ts_node_mean(t, r));
	return (sf_ts_node_mean(t, l) * t->sum_hess[l] + sf_ts_node_mean(t, r) * t->sum_hess[r]) /
		(double) t->sum_hess[k];
}

int
sf_ts_tree_depth(const gbt_tree *t, int k)
{
	int			a,
				b;

	if (t->left[k] < 0)
		return 0;
	a = sf_ts_tree_depth(t, t->left[k]);
	b = sf_ts_tree_depth(t, t->right[k]);
	return 1 + (a > b ? a : b);
}

/*
 * Add the TreeSHAP values of x for trees[0..n_trees), each scaled by
 * 'scale', to phi (n_features + 1, the bias last): the shared loop of the
 * boosted trees (scale 1, a sum) and the forests (scale 1/n, a mean).
 */
size_t
sf_ts_path_len(const gbt_tree *t)
{
	size_t		maxd = (size_t) sf_ts_tree_depth(t, 0) + 2;

	return maxd * (maxd + 1) / 2;
}

void
sf_ts_reference_tree(const gbt_tree *t, const double *x, double *phi, sf_ts_path *path)
{
	shap_ctx	s = {t, x, phi};

	tree_shap(&s, 0, 0, path, 1, 1, -1);
}

static sf_status
treeshap_trees(sf_env *env, const gbt_tree *trees, int32_t n_trees, double scale,
			   uint32_t n_features, const double *x, double *phi)
{
	sf_ts_path *path = NULL;
	size_t		cap = 0;
	/* a mean needs each tree's values apart; a sum adds into phi directly */
	double	   *one = scale == 1.0 ? phi : sf_malloc(env, sizeof(double) * (n_features + 1));
	sf_status	st = SF_OK;
	int32_t		i;
	uint32_t	j;

	if (one == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the TreeSHAP values");
	for (i = 0; i < n_trees && st == SF_OK; i++)
	{
		const gbt_tree *t = &trees[i];
		size_t		need = sf_ts_path_len(t);

		if (need > cap)
		{
			sf_free(env, path);
			path = sf_malloc(env, sizeof(sf_ts_path) * need);
			if (path == NULL)
			{
				st = sf_fail(env, SF_ENOMEM, "out of memory for the TreeSHAP paths");
				break;
			}
			cap = need;
		}
		if (one != phi)
			memset(one, 0, sizeof(double) * (n_features + 1));
		one[n_features] += sf_ts_node_mean(t, 0);
		sf_ts_reference_tree(t, x, one, path);
		if (one != phi)
			for (j = 0; j <= n_features; j++)
				phi[j] += scale * one[j];
		if (sf_interrupted(env))
			st = sf_fail(env, SF_ECANCEL, "explanation cancelled");
	}
	sf_free(env, path);
	if (one != phi)
		sf_free(env, one);
	return st;
}

sf_status
sf_treeshap(sf_env *env, const gbt_model *m, const double *x, double *phi)
{
	memset(phi, 0, sizeof(double) * (m->n_features + 1));
	phi[m->n_features] = (double) m->base_margin;
	return treeshap_trees(env, m->trees, m->n_trees, 1.0, m->n_features, x, phi);
}

sf_status
sf_explain_forest(sf_env *env, const void *model, const sf_background *bg,
				  const double *x, double *phi, double *se)
{
	const forest_model *m = model;

	memset(phi, 0, sizeof(double) * (m->n_features + 1));
	if (se)
		memset(se, 0, sizeof(double) * (m->n_features + 1));
	return treeshap_trees(env, m->trees, m->n_trees, 1.0 / m->n_trees, m->n_features, x, phi);
}

sf_status
sf_explain_gbt(sf_env *env, const void *model, const sf_background *bg,
			   const double *x, double *phi, double *se)
{
	const gbt_model *m = model;

	if (se)
		memset(se, 0, sizeof(double) * (m->n_features + 1));
	return sf_treeshap(env, m, x, phi);
}
