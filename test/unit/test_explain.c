/*
 * test_explain.c
 *	  Unit tests of the explanation cores against closed forms and brute
 *	  force:
 *	  - TreeSHAP equals the Shapley values of the path-dependent value
 *	    function v(S) (follow x on features in S, cover-weighted average
 *	    elsewhere) enumerated over every coalition, on random trees that
 *	    split on a feature twice on one path and see missing values;
 *	  - sf_shapley, exact and sampled, on f = a.x + c x1 x2, whose
 *	    interventional Shapley values have a closed form; the sampled linear
 *	    terms are exact, the product term within 4 standard errors;
 *	  - logreg contributions w_j (x_j - mean_j); reason codes' order;
 *	  - the background section: round trip through sf_container_add_section,
 *	    and every corruption refused.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/gbt.h"
#include "scfrisk/logreg.h"
#include "scfrisk/sf_explain.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

static sf_env env;

#define D 4

/* ------------------------------------------------------------ TreeSHAP */

/* A random full tree of the given depth over D features, covers random. */
static void
random_tree(sf_rng *r, gbt_tree *t, int depth)
{
	int			n = (1 << (depth + 1)) - 1,
				k;

	t->n_nodes = n;
	t->left = calloc(n, sizeof(int32_t));
	t->right = calloc(n, sizeof(int32_t));
	t->split_index = calloc(n, sizeof(uint32_t));
	t->split_cond = calloc(n, sizeof(float));
	t->default_left = calloc(n, 1);
	t->base_weight = calloc(n, sizeof(float));
	t->loss_chg = calloc(n, sizeof(float));
	t->sum_hess = calloc(n, sizeof(float));
	for (k = n - 1; k >= 0; k--)
	{
		if (2 * k + 1 < n)
		{
			t->left[k] = 2 * k + 1;
			t->right[k] = 2 * k + 2;
			/* few features: paths split on one feature more than once */
			t->split_index[k] = (uint32_t) sf_rng_below(r, D);
			t->split_cond[k] = (float) (sf_rng_normal(r) * 0.7);
			t->default_left[k] = (uint8_t) sf_rng_below(r, 2);
			t->sum_hess[k] = t->sum_hess[2 * k + 1] + t->sum_hess[2 * k + 2];
		}
		else
		{
			t->left[k] = t->right[k] = -1;
			t->split_cond[k] = (float) sf_rng_normal(r);
			t->sum_hess[k] = (float) (1 + sf_rng_below(r, 20));
		}
	}
}

static void
free_tree(gbt_tree *t)
{
	free(t->left);
	free(t->right);
	free(t->split_index);
	free(t->split_cond);
	free(t->default_left);
	free(t->base_weight);
	free(t->loss_chg);
	free(t->sum_hess);
}

/* Path-dependent expectation of the tree given the features in mask. */
static double
cond_exp(const gbt_tree *t, int k, const double *x, unsigned mask)
{
	uint32_t	f;

	if (t->left[k] < 0)
		return t->split_cond[k];
	f = t->split_index[k];
	if (mask & (1u << f))
	{
		int			next = isnan(x[f]) ? (t->default_left[k] ? t->left[k] : t->right[k]) :
			((float) x[f] < t->split_cond[k] ? t->left[k] : t->right[k]);

		return cond_exp(t, next, x, mask);
	}
	return (cond_exp(t, t->left[k], x, mask) * t->sum_hess[t->left[k]] +
			cond_exp(t, t->right[k], x, mask) * t->sum_hess[t->right[k]]) / t->sum_hess[k];
}

static double
fact(int n)
{
	return n <= 1 ? 1 : n * fact(n - 1);
}

SF_TEST(treeshap_equals_brute_force)
{
	sf_rng		r;
	gbt_tree	trees[3];
	gbt_model	m;
	int			rep,
				i,
				j;
	double		worst = 0,
				worst_sum = 0;

	sf_rng_init(&r, 17, 1);
	memset(&m, 0, sizeof(m));
	m.n_features = D;
	m.n_trees = 3;
	m.trees = trees;
	m.base_margin = 0.25f;
	for (i = 0; i < 3; i++)
		random_tree(&r, &trees[i], 3 + i);
	for (rep = 0; rep < 50; rep++)
	{
		double		x[D],
					phi[D + 1],
					ref[D + 1] = {0},
					total = m.base_margin;
		unsigned	mask;

		for (j = 0; j < D; j++)
			x[j] = sf_rng_uniform(&r) < 0.2 ? NAN : sf_rng_normal(&r);
		SF_OK(sf_treeshap(&env, &m, x, phi) == SF_OK, "treeshap runs");
		for (i = 0; i < 3; i++)
		{
			ref[D] += cond_exp(&trees[i], 0, x, 0);
			total += cond_exp(&trees[i], 0, x, (1u << D) - 1);
			for (j = 0; j < D; j++)
				for (mask = 0; mask < (1u << D); mask++)
					if (!(mask & (1u << j)))
					{
						int			s = __builtin_popcount(mask);
						double		w = fact(s) * fact(D - s - 1) / fact(D);

						ref[j] += w * (cond_exp(&trees[i], 0, x, mask | (1u << j)) -
									   cond_exp(&trees[i], 0, x, mask));
					}
		}
		ref[D] += m.base_margin;
		for (j = 0; j <= D; j++)
			if (fabs(phi[j] - ref[j]) > worst)
				worst = fabs(phi[j] - ref[j]);
		{
			double		s = 0;

			for (j = 0; j <= D; j++)
				s += phi[j];
			if (fabs(s - total) > worst_sum)
				worst_sum = fabs(s - total);
		}
	}
	SF_NEAR(worst, 0, 1e-9, "TreeSHAP = brute-force Shapley of the path-dependent value, 50 rows");
	SF_NEAR(worst_sum, 0, 1e-9, "contributions + bias = the trees' output");
	for (i = 0; i < 3; i++)
		free_tree(&trees[i]);
}

/* ------------------------------------------------------------ Shapley */

#define NW 10
static const double lin[NW] = {0.5, -1, 2, 0.25, 0, 1.5, -0.75, 0.3, -2, 1};

/* f = lin . x + 1.5 x0 x1 */
static double
test_f(const void *ctx, const double *x)
{
	double		s = 0;
	int			j;

	for (j = 0; j < NW; j++)
		s += lin[j] * x[j];
	return s + 1.5 * x[0] * x[1];
}

/*
 * Closed form for f against background rows b: linear terms
 * lin_j (x_j - mean b_j); the product's share to x0 is
 * 0.75 (x0 E b1 - E b0b1) + 0.75 (x0 x1 - E b0 x1), symmetrically for x1.
 */
static void
closed_form(const sf_background *bg, const double *x, int n_players, double *ref)
{
	double		m0 = 0,
				m1 = 0,
				m01 = 0;
	uint32_t	r;
	int			j;

	for (j = 0; j < NW; j++)
	{
		double		m = 0;

		for (r = 0; r < bg->n_rows; r++)
			m += bg->x[r * NW + j];
		m /= bg->n_rows;
		ref[j] = j < n_players ? lin[j] * (x[j] - m) : 0;
	}
	for (r = 0; r < bg->n_rows; r++)
	{
		m0 += bg->x[r * NW];
		m1 += bg->x[r * NW + 1];
		m01 += bg->x[r * NW] * bg->x[r * NW + 1];
	}
	m0 /= bg->n_rows;
	m1 /= bg->n_rows;
	m01 /= bg->n_rows;
	ref[0] += 0.75 * (x[0] * m1 - m01) + 0.75 * (x[0] * x[1] - m0 * x[1]);
	ref[1] += 0.75 * (m0 * x[1] - m01) + 0.75 * (x[0] * x[1] - x[0] * m1);
}

SF_TEST(shapley_closed_form)
{
	sf_rng		r;
	double	   *rows = malloc(sizeof(double) * 300 * NW);
	double		x[NW],
				phi[NW + 1],
				se[NW + 1],
				ref[NW];
	uint32_t	players[NW];
	sf_background bg;
	int			i,
				j,
				pass;

	sf_rng_init(&r, 5, 2);
	for (i = 0; i < 300 * NW; i++)
		rows[i] = sf_rng_normal(&r) + 0.5;
	for (j = 0; j < NW; j++)
	{
		x[j] = sf_rng_normal(&r) * 2;
		players[j] = (uint32_t) j;
	}
	SF_OK(sf_background_sample(&env, rows, NULL, 300, NW, 99, &bg) == SF_OK &&
		  bg.n_rows == SF_BACKGROUND_ROWS && bg.n_permutations % (2 * bg.n_rows) == 0,
		  "background: %u rows, %u permutations (whole passes)", bg.n_rows, bg.n_permutations);

	/* exact: 8 players (the last two keep x's values and get 0) */
	SF_OK(sf_shapley(&env, test_f, NULL, &bg, players, 8, x, phi, se) == SF_OK, "exact runs");
	closed_form(&bg, x, 8, ref);
	{
		double		worst = 0,
					s = phi[NW];

		for (j = 0; j < NW; j++)
		{
			worst = fmax(worst, fabs(phi[j] - ref[j]));
			s += phi[j];
		}
		SF_NEAR(worst, 0, 1e-10, "exact enumeration = closed form (8 players)");
		SF_NEAR(s, test_f(NULL, x), 1e-10, "exact: contributions + bias = f(x)");
		SF_OK(se[0] == 0 && phi[8] == 0 && phi[9] == 0, "exact: no error, non-players get 0");
	}

	/* sampled: 10 players */
	for (pass = 0; pass < 2; pass++)
	{
		double		again[NW + 1];
		double		s = phi[NW],
					z0,
					z1;

		SF_OK(sf_shapley(&env, test_f, NULL, &bg, players, NW, x, pass ? again : phi, se) == SF_OK,
			  "sampling runs");
		if (!pass)
			continue;
		SF_OK(memcmp(phi, again, sizeof(again)) == 0, "sampling is reproducible");
		closed_form(&bg, x, NW, ref);
		for (j = 2; j < NW; j++)
			if (fabs(phi[j] - ref[j]) > 1e-10)
				break;
		SF_OK(j == NW, "sampled linear terms are exact (every walk gives lin_j (x_j - b_j))");
		z0 = fabs(phi[0] - ref[0]) / se[0];
		z1 = fabs(phi[1] - ref[1]) / se[1];
		SF_OK(se[0] > 0 && z0 < 4 && z1 < 4, "sampled product terms within 4 standard errors (z %.2f, %.2f)",
			  z0, z1);
		for (j = 0; j < NW; j++)
			s += phi[j];
		SF_NEAR(s, test_f(NULL, x), 1e-10, "sampled: contributions + bias = f(x)");
	}
	sf_background_free(&env, &bg);
	free(rows);
}

/* ------------------------------------------------------------ logreg, reasons */

SF_TEST(logreg_and_reasons)
{
	double		coef[3] = {1.5, -2, 0.5};
	logreg_model m = {3, 1, -0.3, coef};
	double		rows[6] = {1, 2, 3, 3, 4, 5};
	double		x[3] = {0, 5, 1},
				phi[4];
	uint32_t	idx[3];
	sf_background bg;

	SF_OK(sf_background_mean(&env, rows, 2, 3, &bg) == SF_OK && bg.x[1] == 3, "mean background row");
	SF_OK(sf_explain_logreg(&env, &m, &bg, x, phi, NULL) == SF_OK, "logreg explains");
	SF_NEAR(phi[0], 1.5 * (0 - 2), 1e-15, "w0 (x0 - mean0)");
	SF_NEAR(phi[1], -2 * (5 - 3), 1e-15, "w1 (x1 - mean1)");
	SF_NEAR(phi[3], -0.3 + 1.5 * 2 - 2 * 3 + 0.5 * 4, 1e-15, "bias = margin at the mean");
	SF_NEAR(phi[0] + phi[1] + phi[2] + phi[3], -0.3 + 0 - 10 + 0.5, 1e-12, "adds up to the margin");
	sf_background_free(&env, &bg);
	SF_OK(sf_explain_logreg(&env, &m, &bg, x, phi, NULL) == SF_EDATA, "no background: refused");

	{
		double		c[6] = {0.2, -1, 0.7, 0, 0.7, 3};

		SF_OK(sf_reason_codes(c, 6, 3, 1, idx) == 3 && idx[0] == 5 && idx[1] == 2 && idx[2] == 4,
			  "adverse: largest first, ties by index");
		SF_OK(sf_reason_codes(c, 6, 3, 0, idx) == 1 && idx[0] == 1, "favorable: negative ones only");
		SF_OK(sf_reason_codes(c, 6, 1, 1, idx) == 1 && idx[0] == 5, "k = 1");
	}
}

/* ------------------------------------------------------------ the section */

SF_TEST(background_section)
{
	double		rows[8] = {1, 2, NAN, 4, 5, 6, 7, 8};
	sf_background bg,
				back;
	sf_buf		model,
				sec,
				out;
	sf_container c;
	uint8_t    *bad;

	SF_OK(sf_background_sample(&env, rows, NULL, 4, 2, 1, &bg) == SF_OK && bg.n_rows == 4,
		  "fewer rows than the sample size: all of them, in order");
	SF_OK(bg.x[0] == 1 && isnan(bg.x[2]) && bg.x[7] == 8, "rows kept in order, NaN kept");
	sf_buf_init(&model, &env);
	sf_container_begin(&model, SF_KIND_LOGREG, 2);
	sf_section_put_u64(&model, SF_TAG_TRAIN_ROWS, 4);
	sf_section_put_text(&model, SF_TAG_BODY, "x", 1);
	SF_OK(sf_container_finish(&model) == SF_OK, "a model");
	sf_buf_init(&sec, &env);
	sf_background_encode(&bg, &sec);
	sf_buf_init(&out, &env);
	SF_OK(sf_container_add_section(&env, model.data, model.len, SF_TAG_BACKGROUND, sec.data, sec.len,
								   &out) == SF_OK, "section inserted");
	SF_OK(sf_container_decode(&env, out.data, out.len, &c) == SF_OK && c.n_sections == 3 &&
		  c.sections[1].tag == SF_TAG_BACKGROUND, "in tag order, the container decodes");
	SF_OK(sf_background_decode(&env, &c, &back) == SF_OK && back.n_rows == 4 && back.n_cols == 2 &&
		  back.n_permutations == bg.n_permutations && back.seed == 1 && back.x[3] == 4 &&
		  isnan(back.x[2]), "round trip");
	sf_background_free(&env, &back);
	SF_OK(sf_container_add_section(&env, out.data, out.len, SF_TAG_BACKGROUND, sec.data, sec.len,
								   &model) == SF_EINVAL, "a second background section is refused");

	bad = malloc(sec.len);
	memcpy(bad, sec.data, sec.len);
	bad[4] = 3;					/* cols 3 for 2 features */
	SF_OK(sf_background_check(&env, bad, sec.len, 2) == SF_ECORRUPT, "wrong width: %s", env.msg);
	memcpy(bad, sec.data, sec.len);
	bad[8] = 3;					/* odd permutations */
	SF_OK(sf_background_check(&env, bad, sec.len, 2) == SF_ECORRUPT, "odd permutations: %s", env.msg);
	SF_OK(sf_background_check(&env, sec.data, sec.len - 1, 2) == SF_ECORRUPT, "truncated: %s", env.msg);
	memcpy(bad, sec.data, sec.len);
	memset(bad, 0, 4);			/* zero rows */
	SF_OK(sf_background_check(&env, bad, sec.len, 2) == SF_ECORRUPT, "no rows: %s", env.msg);
	memcpy(bad, sec.data, sec.len);
	{
		double		inf = INFINITY;
		uint64_t	bits;
		int			i;

		memcpy(&bits, &inf, 8);
		for (i = 0; i < 8; i++)
			bad[20 + i] = (uint8_t) (bits >> (8 * i));
	}
	SF_OK(sf_background_check(&env, bad, sec.len, 2) == SF_ECORRUPT, "infinite value: %s", env.msg);
	free(bad);
	sf_buf_free(&model);
	sf_buf_free(&sec);
	sf_buf_free(&out);
	sf_background_free(&env, &bg);
}

int
main(void)
{
	sf_env_init_malloc(&env);
	SF_RUN(treeshap_equals_brute_force);
	SF_RUN(shapley_closed_form);
	SF_RUN(logreg_and_reasons);
	SF_RUN(background_section);
	return sf_test_done();
}
