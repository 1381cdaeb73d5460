/*
 * test_gbt_fast.c
 *	  The fast tree scorer (scfrisk/gbt_fast.h) against the reference walk
 *	  (gbt_predict_margin_reference), bit for bit: random ensembles of depth
 *	  1 to 12 with missing values and both default directions, both
 *	  objectives, split conditions equal to the inputs, +-inf and NaN inputs,
 *	  trained models and models read back from XGBoost JSON.  The packed walk
 *	  (the scorer of ensembles the fast one declines) is held to the same,
 *	  and so are decoded forests (their trained model scores by the walk).
 *	  The byte-code scorer (gbt_fast_bins.c, the default on AVX2 CPUs for
 *	  depth <= 6) is held to the reference and to the padded walk at every
 *	  table width (up to 16 and up to 32 split features), is declined past
 *	  32 features or 254 distinct conditions on a feature, and keeps -0 and
 *	  +0 as one condition.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sf_test.h"
#include "scfrisk/forest.h"
#include "scfrisk/gbt.h"
#include "scfrisk/gbt_fast.h"
#include "scfrisk/gbt_fast_bins.h"
#include "scfrisk/sf_rng.h"

#define P 7						/* features of the random ensembles */
#define P_MAX 48				/* the widest random ensembles (test_bins) */

static int	n_feat = P;			/* features of the next random ensembles and rows */

/* A value of the small grid the conditions and inputs share (so they tie). */
static float
grid_value(sf_rng *rng)
{
	return (float) ((int) (sf_rng_uniform(rng) * 9) - 4) * 0.5f;
}

/*
 * A random tree of depth at most max_depth in XGBoost's layout (children
 * after their parent, breadth first).  split is the chance an inner node
 * splits; the first node always splits, so the depth is at least 1.
 */
static void
random_tree(sf_env *env, sf_rng *rng, int max_depth, double split, gbt_tree *t)
{
	int32_t		cap = 2 * ((1 << max_depth) + 1),
				n = 1,
				k;
	int		   *lev = calloc((size_t) cap, sizeof(int));

	memset(t, 0, sizeof(*t));
	t->left = sf_calloc(env, (size_t) cap, sizeof(int32_t));
	t->right = sf_calloc(env, (size_t) cap, sizeof(int32_t));
	t->split_index = sf_calloc(env, (size_t) cap, sizeof(uint32_t));
	t->split_cond = sf_calloc(env, (size_t) cap, sizeof(float));
	t->default_left = sf_calloc(env, (size_t) cap, 1);
	t->base_weight = sf_calloc(env, (size_t) cap, sizeof(float));
	t->loss_chg = sf_calloc(env, (size_t) cap, sizeof(float));
	t->sum_hess = sf_calloc(env, (size_t) cap, sizeof(float));
	for (k = 0; k < n; k++)
	{
		if (lev[k] < max_depth && (k == 0 || sf_rng_uniform(rng) < split))
		{
			double		u = sf_rng_uniform(rng);

			t->left[k] = n;
			t->right[k] = n + 1;
			lev[n] = lev[n + 1] = lev[k] + 1;
			n += 2;
			t->split_index[k] = (uint32_t) (sf_rng_uniform(rng) * n_feat);
			/* mostly grid values; sometimes off-grid, +inf, or the largest float */
			t->split_cond[k] = u < 0.8 ? grid_value(rng) : u < 0.9 ? (float) sf_rng_normal(rng)
				: u < 0.95 ? INFINITY : 3.4e38f;
			t->default_left[k] = sf_rng_uniform(rng) < 0.5;
			t->loss_chg[k] = 1.0f;
			t->sum_hess[k] = 1.0f;
		}
		else
		{
			t->left[k] = t->right[k] = -1;
			t->split_cond[k] = (float) (sf_rng_normal(rng) * 0.1);
			t->sum_hess[k] = 1.0f;
		}
	}
	t->n_nodes = n;
	free(lev);
}

static gbt_model *
random_model(sf_env *env, sf_rng *rng, int n_trees, int max_depth, double split, int objective)
{
	gbt_model  *m = sf_calloc(env, 1, sizeof(gbt_model));
	int			i;

	m->n_features = (uint32_t) n_feat;
	m->objective = objective;
	m->base_score = objective == GBT_OBJ_BINARY ? 0.3f : 1.25f;
	m->base_margin = objective == GBT_OBJ_BINARY ? -logf(1.0f / m->base_score - 1.0f) : m->base_score;
	m->n_trees = n_trees;
	m->best_iteration = n_trees - 1;
	m->trees = sf_calloc(env, (size_t) n_trees, sizeof(gbt_tree));
	for (i = 0; i < n_trees; i++)
		random_tree(env, rng, max_depth, split, &m->trees[i]);
	m->n_eval = 0;
	return m;
}

/* A row: grid values (ties with the conditions), normals, NaN, +-inf, 3.4e38. */
static void
random_row(sf_rng *rng, double *x)
{
	int			j;

	for (j = 0; j < n_feat; j++)
	{
		double		u = sf_rng_uniform(rng);

		x[j] = u < 0.5 ? grid_value(rng) : u < 0.7 ? sf_rng_normal(rng) : u < 0.8 ? NAN
			: u < 0.85 ? INFINITY : u < 0.9 ? -INFINITY : u < 0.95 ? 3.4e38 : 1e300;
	}
}

static int
same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(double)) == 0;
}

/* The transform gbt_predict applies to the reference margin. */
static double
reference_score(const gbt_model *m, const double *x)
{
	float		s = (float) gbt_predict_margin_reference(m, x);

	if (m->objective == GBT_OBJ_BINARY)
		return (double) (1.0f / (1.0f + expf(-s)));
	return (double) s;
}

/* Rows that differ from the reference in margin or score (bit for bit). */
static int
count_mismatches(const gbt_model *m, sf_rng *rng, int rows)
{
	double		x[P];
	int			i,
				bad = 0;

	for (i = 0; i < rows; i++)
	{
		random_row(rng, x);
		bad += !same_bits(gbt_predict_margin(m, x), gbt_predict_margin_reference(m, x));
		bad += !same_bits(gbt_predict(m, x), reference_score(m, x));
	}
	return bad;
}

SF_TEST(test_random_depths)
{
	sf_env		env;
	sf_rng		rng;
	int			depth,
				obj;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 19, 0);
	for (depth = 1; depth <= 12; depth++)
		for (obj = GBT_OBJ_BINARY; obj <= GBT_OBJ_REGRESSION; obj++)
		{
			/* dense trees (built by default) and sparse ones (forced) */
			gbt_model  *dense = random_model(&env, &rng, 13, depth, 0.9, obj);
			gbt_model  *sparse = random_model(&env, &rng, 13, depth, 0.55, obj);

			SF_OK(gbt_model_pack(&env, dense) == SF_OK, "depth %d: dense model packs", depth);
			SF_OK(gbt_model_pack(&env, sparse) == SF_OK, "depth %d: sparse model packs", depth);
			if (depth <= 6)
				SF_OK(dense->fast != NULL, "depth %d: dense model has the fast scorer", depth);
			if (dense->fast == NULL)
				SF_OK(gbt_fast_build(&env, dense->trees, dense->n_trees, P, GBT_FAST_FORCE,
									 &dense->fast) == SF_OK && dense->fast != NULL,
					  "depth %d: forced build", depth);
			SF_OK(count_mismatches(dense, &rng, 400) == 0,
				  "depth %d, objective %d: fast scorer equals the reference bit for bit", depth, obj);
			/* the packed walk on the sparse model, then the fast scorer forced on it */
			gbt_fast_free(&env, sparse->fast);
			sparse->fast = NULL;
			SF_OK(count_mismatches(sparse, &rng, 400) == 0,
				  "depth %d, objective %d: packed walk equals the reference", depth, obj);
			SF_OK(gbt_fast_build(&env, sparse->trees, sparse->n_trees, P, GBT_FAST_FORCE,
								 &sparse->fast) == SF_OK && sparse->fast != NULL,
				  "depth %d: forced build of a sparse model", depth);
			SF_OK(count_mismatches(sparse, &rng, 400) == 0,
				  "depth %d, objective %d: padded sparse trees equal the reference", depth, obj);
			gbt_model_free(&env, dense);
			gbt_model_free(&env, sparse);
		}
}

SF_TEST(test_declined)
{
	sf_env		env;
	sf_rng		rng;
	gbt_model  *m;
	gbt_fast   *f = NULL;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 20, 0);

	/* a split at -inf: missing values with default left would not go left */
	m = random_model(&env, &rng, 5, 4, 0.9, GBT_OBJ_BINARY);
	m->trees[2].split_cond[0] = -INFINITY;
	m->trees[2].default_left[0] = 1;
	SF_OK(gbt_model_pack(&env, m) == SF_OK && m->fast == NULL, "a split at -inf keeps the walk");
	SF_OK(count_mismatches(m, &rng, 400) == 0, "which equals the reference");
	gbt_model_free(&env, m);

	/* a split at NaN (a hand-made model): nothing goes left but default-left NaN */
	m = random_model(&env, &rng, 5, 4, 0.9, GBT_OBJ_REGRESSION);
	m->trees[0].split_cond[0] = NAN;
	SF_OK(gbt_model_pack(&env, m) == SF_OK && m->fast == NULL, "a split at NaN keeps the walk");
	SF_OK(count_mismatches(m, &rng, 400) == 0, "which equals the reference");
	gbt_model_free(&env, m);

	/* deeper than GBT_FAST_MAX_DEPTH, and a deep sparse tree without the force flag */
	m = random_model(&env, &rng, 3, GBT_FAST_MAX_DEPTH + 1, 0.97, GBT_OBJ_REGRESSION);
	SF_OK(gbt_fast_build(&env, m->trees, m->n_trees, P, GBT_FAST_FORCE, &f) == SF_OK && f == NULL,
		  "depth %d is declined even when forced", GBT_FAST_MAX_DEPTH + 1);
	gbt_model_free(&env, m);
	m = random_model(&env, &rng, 3, 12, 0.5, GBT_OBJ_REGRESSION);
	m->trees[0].split_index[0] = 0;
	SF_OK(gbt_fast_build(&env, m->trees, m->n_trees, P, 0, &f) == SF_OK,
		  "a sparse deep ensemble builds or declines without error");
	if (f != NULL)
	{
		SF_OK(f->depth <= 6, "only a shallow sparse ensemble is padded (depth %d)", f->depth);
		gbt_fast_free(&env, f);
	}
	gbt_model_free(&env, m);
}

/* A trained model with missing values, and its XGBoost JSON read back. */
SF_TEST(test_trained_and_json)
{
	sf_env		env;
	sf_rng		rng;
	gbt_params	prm = gbt_params_default();
	size_t		n = 2000,
				i;
	uint32_t	p = 5,
				j;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n);
	gbt_model  *m = NULL,
			   *back = NULL;
	sf_buf		js;
	sf_str_list names;
	int			obj,
				bad;

	sf_env_init_malloc(&env);
	env.threads = 1;
	sf_rng_init(&rng, 21, 0);
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < p; j++)
			x[i * p + j] = sf_rng_uniform(&rng) < 0.1 ? NAN : sf_rng_normal(&rng);
		y[i] = (isnan(x[i * p]) ? 0.3 : x[i * p]) + 0.5 * x[i * p + 1] * (isnan(x[i * p + 2]) ? 1 : x[i * p + 2])
			+ 0.3 * sf_rng_normal(&rng) > 0;
	}
	for (obj = GBT_OBJ_BINARY; obj <= GBT_OBJ_REGRESSION; obj++)
	{
		prm.objective = obj;
		prm.n_estimators = 30;
		prm.max_depth = 6;
		SF_OK(gbt_train(&env, x, y, NULL, n, p, &prm, &m) == SF_OK, "objective %d trains", obj);
		SF_OK(m->fast != NULL, "a trained depth-6 model has the fast scorer");
		bad = 0;
		for (i = 0; i < n; i++)
			bad += !same_bits(gbt_predict_margin(m, x + i * p), gbt_predict_margin_reference(m, x + i * p)) ||
				!same_bits(gbt_predict(m, x + i * p), reference_score(m, x + i * p));
		SF_OK(bad == 0, "objective %d: trained model, %d of %zu rows differ", obj, bad, n);
		sf_buf_init(&js, &env);
		SF_OK(gbt_to_xgb_json(&env, m, NULL, &js) == SF_OK, "to XGBoost JSON");
		SF_OK(gbt_from_xgb_json(&env, (const char *) js.data, js.len, &back, &names) == SF_OK,
			  "read back from XGBoost JSON");
		bad = 0;
		for (i = 0; i < n; i++)
			bad += !same_bits(gbt_predict(back, x + i * p), reference_score(m, x + i * p));
		SF_OK(back->fast != NULL && bad == 0, "imported model scores as the reference (%d differ)", bad);
		sf_buf_free(&js);
		gbt_model_free(&env, back);
		gbt_model_free(&env, m);
	}
	free(x);
	free(y);
}

/* A shallow forest: decoded (fast scorer) against trained (the walk). */
SF_TEST(test_forest)
{
	sf_env		env;
	sf_rng		rng;
	forest_params prm;
	size_t		n = 1500,
				i;
	uint32_t	p = 4,
				j;
	double	   *x = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n);
	forest_model *m = NULL,
			   *back = NULL;
	sf_buf		b;
	int			bad = 0;

	sf_env_init_malloc(&env);
	env.threads = 1;
	sf_rng_init(&rng, 22, 0);
	memset(&prm, 0, sizeof(prm));
	sf_params_defaults(&forest_params_table, &prm);
	prm.n_estimators = 20;
	prm.max_depth = 5;
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < p; j++)
			x[i * p + j] = sf_rng_uniform(&rng) < 0.1 ? NAN : sf_rng_normal(&rng);
		y[i] = (isnan(x[i * p]) ? 0.0 : x[i * p]) + 0.3 * sf_rng_normal(&rng) > 0;
	}
	SF_OK(forest_train(&env, SF_KIND_FOREST, x, y, n, p, &prm, &m) == SF_OK, "forest trains");
	sf_buf_init(&b, &env);
	SF_OK(forest_encode(&env, m, &prm, NULL, &b) == SF_OK &&
		  forest_decode(&env, SF_KIND_FOREST, b.data, b.len, &back) == SF_OK, "forest round trip");
	SF_OK(m->fast == NULL && back->fast != NULL, "the decoded depth-5 forest has the fast scorer");
	for (i = 0; i < n; i++)
		bad += !same_bits(forest_predict(back, x + i * p), forest_predict(m, x + i * p));
	SF_OK(bad == 0, "decoded forest scores as the walk bit for bit (%d of %zu rows differ)", bad, n);
	sf_buf_free(&b);
	forest_model_free(&env, back);
	forest_model_free(&env, m);
	free(x);
	free(y);
}

/* Rows where the byte-code scorer differs from the padded walk or the reference. */
static int
bins_mismatches(sf_env *env, const gbt_model *m, sf_rng *rng, int rows)
{
	double		x[P_MAX];
	gbt_fast   *walk = NULL;
	int			i,
				j,
				bad = 0;

	if (gbt_fast_build(env, m->trees, m->n_trees, m->n_features, GBT_FAST_FORCE | GBT_FAST_NO_BINS,
					   &walk) != SF_OK || walk == NULL || walk->bins != NULL)
		return -1;
	for (i = 0; i < rows; i++)
	{
		double		ref;

		random_row(rng, x);
		/* now and then a signed zero, which equals +0 in every compare */
		for (j = 0; j < n_feat; j++)
			if (x[j] == 0.0 && sf_rng_uniform(rng) < 0.5)
				x[j] = -0.0;
		ref = gbt_predict_margin_reference(m, x);
		bad += !same_bits(gbt_predict_margin(m, x), ref);
		bad += !same_bits((double) gbt_fast_margin(walk, x, m->base_margin), ref);
		bad += !same_bits(gbt_fast_sum(m->fast, x), gbt_fast_sum(walk, x));
	}
	gbt_fast_free(env, walk);
	return bad;
}

SF_TEST(test_bins)
{
	static const int widths[] = {3, 16, 17, 32, 40};
	sf_env		env;
	sf_rng		rng;
	int			w,
				depth,
				obj = GBT_OBJ_BINARY;
	int			cpu = gbt_fast_bins_supported();
	gbt_model  *m;
	int32_t		i,
				k;

	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 23, 0);
	for (w = 0; w < (int) (sizeof(widths) / sizeof(widths[0])); w++)
		for (depth = 1; depth <= 7; depth++)
		{
			uint32_t	used;

			n_feat = widths[w];
			m = random_model(&env, &rng, 21, depth, 0.9, obj);
			/* some conditions at -0 (one condition with +0) */
			for (i = 0; i < m->n_trees; i++)
				for (k = 0; k < m->trees[i].n_nodes; k++)
					if (m->trees[i].left[k] >= 0 && m->trees[i].split_cond[k] == 0.0f &&
						sf_rng_uniform(&rng) < 0.5)
						m->trees[i].split_cond[k] = -0.0f;
			SF_OK(gbt_model_pack(&env, m) == SF_OK && m->fast != NULL,
				  "%d features, depth %d: the fast scorer is built", n_feat, depth);
			used = m->fast->n_used;
			SF_OK((m->fast->bins != NULL) == (cpu && depth <= GBT_BINS_DEPTH && used <= GBT_BINS_MAX_USED),
				  "%d features (%u used), depth %d: byte-code scorer %s", n_feat, used, depth,
				  m->fast->bins ? "built" : "declined");
			if (m->fast->bins)
				SF_OK(m->fast->bins->wide == (used > 16), "table width follows the %u used features", used);
			SF_OK(bins_mismatches(&env, m, &rng, 300) == 0,
				  "%d features, depth %d: equals the padded walk and the reference bit for bit",
				  n_feat, depth);
			gbt_model_free(&env, m);
			obj = GBT_OBJ_BINARY + GBT_OBJ_REGRESSION - obj;
		}

	/* more than GBT_BINS_MAX_CUTS distinct conditions on one feature: declined, the walk scores */
	n_feat = 2;
	m = random_model(&env, &rng, 12, 6, 1.0, GBT_OBJ_REGRESSION);
	for (i = 0; i < m->n_trees; i++)
		for (k = 0; k < m->trees[i].n_nodes; k++)
			if (m->trees[i].left[k] >= 0)
			{
				m->trees[i].split_index[k] = 0;
				m->trees[i].split_cond[k] = (float) (i * 100 + k) * 0.01f - 3.0f;
			}
	SF_OK(gbt_model_pack(&env, m) == SF_OK && m->fast != NULL && m->fast->bins == NULL,
		  "more than %d conditions on a feature: byte-code scorer declined", GBT_BINS_MAX_CUTS);
	SF_OK(count_mismatches(m, &rng, 400) == 0, "and the walk equals the reference");
	/* exactly GBT_BINS_MAX_CUTS fit: the first ones stay on feature 0, the rest move to a grid on feature 1 */
	{
		int			seen = 0;

		for (i = 0; i < m->n_trees; i++)
			for (k = 0; k < m->trees[i].n_nodes; k++)
				if (m->trees[i].left[k] >= 0 && seen++ >= GBT_BINS_MAX_CUTS)
				{
					m->trees[i].split_index[k] = 1;
					m->trees[i].split_cond[k] = (float) (seen % 9) * 0.5f - 2.0f;
				}
	}
	SF_OK(gbt_model_pack(&env, m) == SF_OK && m->fast != NULL && (m->fast->bins != NULL) == cpu,
		  "%d conditions on a feature fit", GBT_BINS_MAX_CUTS);
	SF_OK(bins_mismatches(&env, m, &rng, 400) == 0, "and score as the reference");
	gbt_model_free(&env, m);
	n_feat = P;
}

/*
 * The byte-code scorer's block: nodes, leaves and conditions each start a
 * 64-byte line (so no 32-byte load of nodes and no 16-value block of
 * conditions straddles two), whatever the tree count (odd counts take the
 * loop's last single step), depth and table width; and the scores stay the
 * reference's bit for bit.
 */
SF_TEST(test_bins_layout)
{
	static const int counts[] = {1, 2, 3, 7, 64, 101};
	static const int widths[] = {3, 17, 32};
	static const int depths[] = {1, 3, 6};
	sf_env		env;
	sf_rng		rng;
	int			c,
				w,
				d;

	if (!gbt_fast_bins_supported())
	{
		SF_OK(1, "no AVX2: the byte-code scorer is never built");
		return;
	}
	sf_env_init_malloc(&env);
	sf_rng_init(&rng, 29, 0);
	for (c = 0; c < (int) (sizeof(counts) / sizeof(counts[0])); c++)
		for (w = 0; w < (int) (sizeof(widths) / sizeof(widths[0])); w++)
			for (d = 0; d < (int) (sizeof(depths) / sizeof(depths[0])); d++)
			{
				gbt_model  *m;
				const gbt_fast_bins *b;
				uint32_t	s;
				int			aligned;

				n_feat = widths[w];
				m = random_model(&env, &rng, counts[c], depths[d], 0.9,
								 (c + w + d) % 2 ? GBT_OBJ_BINARY : GBT_OBJ_REGRESSION);
				if (gbt_model_pack(&env, m) != SF_OK || m->fast == NULL || m->fast->bins == NULL)
				{
					SF_OK(0, "%d trees of depth %d over %d features: byte-code scorer built",
						  counts[c], depths[d], widths[w]);
					gbt_model_free(&env, m);
					continue;
				}
				b = m->fast->bins;
				aligned = (uintptr_t) b->nodes % 64 == 0 && (uintptr_t) b->leaves % 64 == 0 &&
					(uintptr_t) b->cuts % 64 == 0;
				for (s = 0; s <= b->n_used; s++)
					aligned = aligned && b->cut_off[s] % 16 == 0;
				SF_OK(aligned,
					  "%d trees of depth %d over %d features: nodes, leaves and conditions on 64-byte lines",
					  counts[c], depths[d], widths[w]);
				SF_OK(bins_mismatches(&env, m, &rng, 200) == 0,
					  "%d trees of depth %d over %d features: equals the padded walk and the reference",
					  counts[c], depths[d], widths[w]);
				gbt_model_free(&env, m);
			}
	n_feat = P;
}

int
main(void)
{
	SF_RUN(test_random_depths);
	SF_RUN(test_declined);
	SF_RUN(test_trained_and_json);
	SF_RUN(test_forest);
	SF_RUN(test_bins);
	SF_RUN(test_bins_layout);
	return sf_test_done();
}
