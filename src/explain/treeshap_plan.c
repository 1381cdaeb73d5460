/*
 * treeshap_plan.c
 *	  TreeSHAP with per-model precomputation (explain_treeshap.h): tables of
 *	  every leaf's subset weights Q built once per model, then one walk of
 *	  each tree per row.  treeshap.c keeps the reference walk, which the unit
 *	  tests compare this with and which explains the trees too deep for the
 *	  table budget.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/explain_treeshap.h"
#include "treeshap_int.h"

/*
 * One node of the walk, everything a row's step reads.  share and prior
 * let the walk carry R, the product of the cold features' fractions, down
 * to the leaves: a feature's fraction on a path is the product of the
 * cover shares of its splits along it, so a split whose feature is
 * already cold multiplies R by its share, and one that turns it cold by
 * its share times prior, the product of the earlier (hot) splits' shares.
 */
typedef struct ts_node
{
	int32_t		left;			/* -1 for a leaf */
	int32_t		right;			/* a leaf: its index in the plan's leaves */
	uint32_t	feature;
	float		cond;			/* go left when x < cond */
	uint8_t		slot;			/* position of the feature among the path's distinct ones */
	uint8_t		default_left;
	double		prior;			/* product of the cover shares of the feature's earlier splits */
	double		share[2];		/* cover share of the left and the right child */
} ts_node;

/* A leaf: its d distinct path features from first[..first + d), its table from q. */
typedef struct ts_leaf
{
	uint32_t	d;
	uint32_t	first;			/* into the plan's feat and om */
	size_t		q;				/* into the plan's table: 2^d values */
} ts_leaf;

/* A tree: its nodes from node (tables), or the reference walk of src. */
typedef struct ts_tree
{
	const gbt_tree *src;
	int			tabled;
	size_t		node;			/* first node in the plan's nodes */
} ts_tree;

struct sf_treeshap_plan
{
	uint32_t	n_features;
	int32_t		n_trees;
	int32_t		n_tabled;
	double		scale;
	double		bias;			/* base + the scaled expected values, summed in tree order */
	size_t		ref_path;		/* path elements the reference walk needs (0: none) */
	ts_tree    *trees;
	ts_node    *nodes;
	ts_leaf    *leaves;
	uint32_t   *feat;			/* per leaf slot: the feature */
	double	   *om;				/* per leaf slot: 1 - its fraction z */
	double	   *table;			/* per leaf: scale * v * Q(A) for every subset A (bit k = slot k) */
};

/* ------------------------------------------------------------ sizing */

/* What the tables need: nodes, leaves, leaf slots, table values. */
typedef struct ts_size
{
	size_t		nodes,			/* the sum of the tabled trees' n_nodes */
				leaves,
				slots,
				values;
	int			too_deep;		/* a leaf has more than SF_TREESHAP_MAX_SLOTS distinct features */
} ts_size;

static int
slot_of(const uint32_t *path, int d, uint32_t f)
{
	int			s;

	for (s = 0; s < d; s++)
		if (path[s] == f)
			return s;
	return d;
}

static void
size_walk(const gbt_tree *t, int k, uint32_t *path, int d, ts_size *sz)
{
	int			s;

	if (t->left[k] < 0)
	{
		sz->leaves++;
		sz->slots += (size_t) d;
		if (d > SF_TREESHAP_MAX_SLOTS)
			sz->too_deep = 1;
		else
			sz->values += (size_t) 1 << d;
		return;
	}
	s = slot_of(path, d, t->split_index[k]);
	path[s] = t->split_index[k];
	size_walk(t, t->left[k], path, s == d ? d + 1 : d, sz);
	size_walk(t, t->right[k], path, s == d ? d + 1 : d, sz);
}

/* ------------------------------------------------------------ tables */

/*
 * Q(A) for every subset A of the d slots with fractions z, times vs:
 * Q(A) = sum_s w(s) [t^s] prod_{j in A} (t + z_j) with the Shapley weights
 * w(s) = s! (d-1-s)! / d! (s < d; Q of all d slots is never read).  The
 * polynomial of A is that of A without its highest slot times (t + z_high),
 * so poly (2^d x (d + 1) scratch) fills in mask order.
 */
static void
leaf_table(int d, const double *z, double vs, double *poly, double *out)
{
	double		w[SF_TREESHAP_MAX_SLOTS + 1];
	uint32_t	a;
	int			s;

	/* w(s) = 1 / (d * C(d-1, s)) */
	for (s = 0; s < d; s++)
	{
		double		c = 1;
		int			i;

		for (i = 1; i <= s; i++)
			c = c * (d - 1 - s + i) / i;
		w[s] = 1.0 / (d * c);
	}
	poly[0] = 1;
	out[0] = d > 0 ? vs * w[0] : 0;
	for (a = 1; a < (1u << d); a++)
	{
		int			hi = 31 - __builtin_clz(a),
					n = __builtin_popcount(a);
		const double *p = poly + (size_t) (a & ~(1u << hi)) * (d + 1);
		double	   *q = poly + (size_t) a * (d + 1),
					sum = 0;

		/* (p_0 + p_1 t + ... + p_{n-1} t^{n-1}) (t + z) */
		q[0] = p[0] * z[hi];
		for (s = 1; s < n; s++)
			q[s] = p[s - 1] + p[s] * z[hi];
		q[n] = p[n - 1];
		for (s = 0; s <= n && s < d; s++)
			sum += w[s] * q[s];
		out[a] = vs * sum;
	}
}

/* The state of the building walk of one tree. */
typedef struct ts_build
{
	sf_treeshap_plan *p;
	const gbt_tree *t;
	size_t		base;			/* the tree's first node */
	size_t		n_leaves,
				n_slots,
				n_values;
	double	   *poly;			/* scratch of leaf_table */
} ts_build;

static void
build_leaf(ts_build *b, ts_node *nd, int k, const uint32_t *path, const double *z, int d)
{
	sf_treeshap_plan *p = b->p;
	ts_leaf    *l = &p->leaves[b->n_leaves];
	int			s;

	nd->left = -1;
	nd->right = (int32_t) b->n_leaves++;
	l->d = (uint32_t) d;
	l->first = (uint32_t) b->n_slots;
	l->q = b->n_values;
	for (s = 0; s < d; s++)
	{
		p->feat[b->n_slots + s] = path[s];
		p->om[b->n_slots + s] = 1 - z[s];
	}
	leaf_table(d, z, p->scale * (double) b->t->split_cond[k], b->poly, p->table + b->n_values);
	b->n_slots += (size_t) d;
	b->n_values += (size_t) 1 << d;
}

/*
 * Lay out node k (as nodes[b->base + k]) and below: the slot of its
 * feature on the path, and for each leaf its distinct features with the
 * products of their cover fractions along the path.
 */
static void
build_walk(ts_build *b, int k, const uint32_t *path, const double *z, int d)
{
	const gbt_tree *t = b->t;
	ts_node    *nd = &b->p->nodes[b->base + (size_t) k];
	uint32_t	cpath[GBT_MAX_DEPTH + SF_TREESHAP_MAX_SLOTS + 1];
	double		cz[GBT_MAX_DEPTH + SF_TREESHAP_MAX_SLOTS + 1];
	int			s,
				c;

	if (t->left[k] < 0)
	{
		build_leaf(b, nd, k, path, z, d);
		return;
	}
	nd->left = t->left[k];
	nd->right = t->right[k];
	nd->feature = t->split_index[k];
	nd->cond = t->split_cond[k];
	nd->default_left = t->default_left[k];
	s = slot_of(path, d, t->split_index[k]);
	nd->slot = (uint8_t) s;
	nd->prior = s < d ? z[s] : 1.0;
	memcpy(cpath, path, sizeof(uint32_t) * (size_t) d);
	cpath[s] = t->split_index[k];
	for (c = 0; c < 2; c++)
	{
		int			child = c == 0 ? t->left[k] : t->right[k];

		nd->share[c] = sf_ts_cover_share(t, k, child);
		memcpy(cz, z, sizeof(double) * (size_t) d);
		cz[s] = nd->prior * nd->share[c];
		build_walk(b, child, cpath, cz, s == d ? d + 1 : d);
	}
}

/* ------------------------------------------------------------ building */

static sf_status
plan_alloc(sf_env *env, sf_treeshap_plan *p, const ts_size *tot)
{
	if (!sf_alloc_all(env, SF_MALLOC_N(p->nodes, tot->nodes + 1), SF_MALLOC_N(p->leaves, tot->leaves + 1),
					  SF_MALLOC_N(p->feat, tot->slots + 1), SF_MALLOC_N(p->om, tot->slots + 1),
					  SF_MALLOC_N(p->table, tot->values + 1)))
		return sf_fail(env, SF_ENOMEM, "out of memory for the TreeSHAP tables");
	return SF_OK;
}

/*
 * Which trees get tables (in order, while they fit in the budget) and the
 * sum of what those need; every tree's depth is at most the format's
 * (GBT_MAX_DEPTH for boosted trees; deeper forest trees use the reference).
 */
static void
plan_choose(sf_treeshap_plan *p, const gbt_tree *trees, size_t budget, ts_size *tot)
{
	uint32_t	path[GBT_MAX_DEPTH + 1];
	int32_t		i;

	memset(tot, 0, sizeof(*tot));
	for (i = 0; i < p->n_trees; i++)
	{
		const gbt_tree *t = &trees[i];
		int			deep = sf_ts_tree_depth(t, 0) > GBT_MAX_DEPTH;
		ts_size		sz = {0};

		p->trees[i].src = t;
		if (!deep)
			size_walk(t, 0, path, 0, &sz);
		if (deep || sz.too_deep || tot->values + sz.values > budget)
		{
			size_t		need = sf_ts_path_len(t);

			if (need > p->ref_path)
				p->ref_path = need;
			continue;
		}
		p->trees[i].tabled = 1;
		p->trees[i].node = tot->nodes;
		p->n_tabled++;
		/* nodes keep their indices in the tree (every one is reachable: the decoders check) */
		tot->nodes += (size_t) t->n_nodes;
		tot->leaves += sz.leaves;
		tot->slots += sz.slots;
		tot->values += sz.values;
	}
}

/* Lay out the tabled trees and sum the bias in tree order, as the reference does. */
static sf_status
plan_fill(sf_env *env, sf_treeshap_plan *p, double base)
{
	ts_build	b = {0};
	uint32_t	path[1] = {0};
	double		z[1] = {1};
	int32_t		i;

	b.p = p;
	b.poly = sf_malloc(env, sizeof(double) * ((size_t) 1 << SF_TREESHAP_MAX_SLOTS) *
					   (SF_TREESHAP_MAX_SLOTS + 1));
	if (b.poly == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the TreeSHAP tables");
	p->bias = base;
	for (i = 0; i < p->n_trees; i++)
	{
		const gbt_tree *t = p->trees[i].src;

		p->bias += p->scale == 1.0 ? sf_ts_node_mean(t, 0) : p->scale * sf_ts_node_mean(t, 0);
		if (!p->trees[i].tabled)
			continue;
		b.t = t;
		b.base = p->trees[i].node;
		build_walk(&b, 0, path, z, 0);
	}
	sf_free(env, b.poly);
	return SF_OK;
}

sf_status
sf_treeshap_plan_build(sf_env *env, const gbt_tree *trees, int32_t n_trees, double scale,
					   double base, uint32_t n_features, size_t table_budget,
					   sf_treeshap_plan **out)
{
	sf_treeshap_plan *p = sf_calloc(env, 1, sizeof(sf_treeshap_plan));
	ts_size		tot;
	sf_status	st;

	*out = NULL;
	if (p == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the TreeSHAP tables");
	p->n_features = n_features;
	p->n_trees = n_trees;
	p->scale = scale;
	p->trees = sf_calloc(env, (size_t) n_trees + 1, sizeof(ts_tree));
	if (p->trees == NULL)
		st = sf_fail(env, SF_ENOMEM, "out of memory for the TreeSHAP tables");
	else
	{
		plan_choose(p, trees, table_budget, &tot);
		st = plan_alloc(env, p, &tot);
	}
	if (st == SF_OK)
		st = plan_fill(env, p, base);
	if (st != SF_OK)
	{
		sf_treeshap_plan_free(env, p);
		return st;
	}
	*out = p;
	return SF_OK;
}

int32_t
sf_treeshap_plan_tabled(const sf_treeshap_plan *p)
{
	return p->n_tabled;
}

void
sf_treeshap_plan_free(sf_env *env, sf_treeshap_plan *p)
{
	if (p != NULL)
		sf_free_all(env, p->trees, p->nodes, p->leaves, p->feat, p->om, p->table, p);
}

/* ------------------------------------------------------------ a row */

typedef struct ts_row
{
	const sf_treeshap_plan *p;
	const ts_node *nodes;		/* the tree's */
	const float *xf;			/* the row in float32, as the splits compare it */
	double	   *phi;
} ts_row;

/*
 * Leaf l reached with the slots in 'cold' not followed by x and R = rest:
 * add the hot slots' values, and return the value every cold slot gets,
 * which the walk adds once per slot where it turns cold (row_walk).
 */
static inline double
row_leaf(const ts_row *r, const ts_leaf *l, uint32_t cold, double rest)
{
	const sf_treeshap_plan *p = r->p;
	const uint32_t *feat = p->feat + l->first;
	const double *om = p->om + l->first,
			   *q = p->table + l->q;
	uint32_t	hot = ((1u << l->d) - 1) & ~cold,
				h;

	for (h = hot; h != 0; h &= h - 1)
	{
		int			k = __builtin_ctz(h);

		r->phi[feat[k]] += om[k] * rest * q[hot ^ (1u << k)];
	}
	return -rest * q[hot];
}

static double row_walk(const ts_row *r, const ts_node *nd, uint32_t cold, double rest);

/* Node k: a leaf's values, or the walk below it (a leaf costs no call). */
static inline double
row_visit(const ts_row *r, int32_t k, uint32_t cold, double rest)
{
	const ts_node *nd = &r->nodes[k];

	if (nd->left < 0)
		return row_leaf(r, &r->p->leaves[nd->right], cold, rest);
	return row_walk(r, nd, cold, rest);
}

/*
 * Walk split node nd with the cold slots and their product R so far;
 * returns the sum of the cold value over the leaves below, which a slot
 * turning cold here adds to its feature (every leaf below has it cold).
 */
static double
row_walk(const ts_row *r, const ts_node *nd, uint32_t cold, double rest)
{
	uint32_t	bit;
	float		v;
	int			hot;
	double		below;

	v = r->xf[nd->feature];
	hot = (isnan(v) ? nd->default_left : v < nd->cond) ? 0 : 1;
	bit = 1u << nd->slot;
	/* statements, not one expression: the order of phi's sums is fixed */
	if (cold & bit)
	{
		below = row_visit(r, nd->left, cold, rest * nd->share[0]);
		return below + row_visit(r, nd->right, cold, rest * nd->share[1]);
	}
	/* the feature is hot so far: it stays hot one way and turns cold the other */
	below = row_visit(r, hot == 0 ? nd->right : nd->left, cold | bit,
					  rest * (nd->prior * nd->share[1 - hot]));
	r->phi[nd->feature] += below;
	return below + row_visit(r, hot == 0 ? nd->left : nd->right, cold, rest);
}

/* The reference walk of the trees without tables, scaled as the reference scales them. */
static sf_status
run_reference(sf_env *env, const sf_treeshap_plan *p, const double *x, double *phi)
{
	sf_ts_path *path = sf_malloc(env, sizeof(sf_ts_path) * p->ref_path);
	double	   *one = sf_malloc(env, sizeof(double) * (p->n_features + 1));
	int32_t		i;
	uint32_t	j;

	if (path == NULL || one == NULL)
	{
		sf_free(env, path);
		sf_free(env, one);
		return sf_fail(env, SF_ENOMEM, "out of memory for the TreeSHAP paths");
	}
	for (i = 0; i < p->n_trees; i++)
	{
		if (p->trees[i].tabled)
			continue;
		if (sf_interrupted(env))
		{
			sf_free(env, path);
			sf_free(env, one);
			return sf_fail(env, SF_ECANCEL, "explanation cancelled");
		}
		memset(one, 0, sizeof(double) * p->n_features);
		sf_ts_reference_tree(p->trees[i].src, x, one, path);
		for (j = 0; j < p->n_features; j++)
			phi[j] += p->scale * one[j];
	}
	sf_free(env, path);
	sf_free(env, one);
	return SF_OK;
}

sf_status
sf_treeshap_plan_run(sf_env *env, const sf_treeshap_plan *p, const double *x, double *phi)
{
	ts_row		r;
	float	   *xf = sf_malloc(env, sizeof(float) * (p->n_features + 1));
	uint32_t	j;
	int32_t		i;

	if (xf == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the TreeSHAP values");
	for (j = 0; j < p->n_features; j++)
		xf[j] = (float) x[j];
	memset(phi, 0, sizeof(double) * p->n_features);
	phi[p->n_features] = p->bias;
	r.p = p;
	r.xf = xf;
	r.phi = phi;
	for (i = 0; i < p->n_trees; i++)
	{
		/* as the reference walk: a model of many trees can be stopped within a row */
		if (sf_interrupted(env))
		{
			sf_free(env, xf);
			return sf_fail(env, SF_ECANCEL, "explanation cancelled");
		}
		if (p->trees[i].tabled)
		{
			r.nodes = p->nodes + p->trees[i].node;
			(void) row_visit(&r, 0, 0, 1.0);
		}
	}
	sf_free(env, xf);
	if (p->n_tabled < p->n_trees)
		return run_reference(env, p, x, phi);
	return SF_OK;
}
