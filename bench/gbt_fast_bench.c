/*
 * gbt_fast_bench.c
 *	  The tree scorers of one row at a time, outside the server, for
 *	  instruction counts (perf stat -e instructions,cycles): a model of 100
 *	  trees of depth 6 trained on the shape of bench/gbt_bench.py (20 normal
 *	  features, 5% missing), then ROWS rows scored by one scorer:
 *
 *	    fast       the default scorer (gbt_predict_margin): the byte-code
 *	               scorer where the CPU has AVX2 (gbt_fast_bins.c), else the
 *	               padded walk
 *	    walk       the padded complete-tree walk (built with GBT_FAST_NO_BINS)
 *	    packed     the 16-byte node walk, 8 trees side by side
 *	    reference  one tree at a time down the node arrays
 *	    qs         QuickScorer (Lucchese et al., SIGIR 2015), one row at a
 *	               time: per feature, the nodes sorted by threshold, the
 *	               false ones clear their left leaves from the tree's 64-bit
 *	               leaf mask; the leaf is the lowest bit left.  A prototype
 *	               for the comparison only (checked against the reference).
 *	    none       the rows only (training and data generation): subtract it
 *	    time       fast, walk and reference in turn, 5 rounds, each timed on
 *	               the thread's CPU clock (ns per row; compare them within one
 *	               run only: the machine may be loaded), and the rows where
 *	               fast or walk differ from the reference; with POLLUTE=k
 *	               in the environment, k KB of other memory are written
 *	               between rows (as the executor's work evicts the model
 *	               from L1 between the calls of a query)
 *
 * Build and run (after make cores):
 *	  cc -O2 -Iinclude bench/gbt_fast_bench.c build/cores/*.o -lopenblas -lpthread -lm -o /tmp/gbt_fast_bench
 *	  perf stat -e instructions,cycles /tmp/gbt_fast_bench fast 200000
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scfrisk/gbt.h"
#include "scfrisk/gbt_fast.h"
#include "scfrisk/sf_rng.h"

#define P 20

typedef struct qs_node
{
	float		cond;
	int32_t		tree;
	uint64_t	mask;			/* zeros at the leaves of the left subtree */
} qs_node;

typedef struct qs_model
{
	int32_t		n_trees;
	int32_t    *off;			/* (P + 1) nodes of feature j at off[j] .. off[j + 1] - 1, by cond */
	qs_node    *nodes;
	int32_t    *moff;			/* (P + 1) default-right nodes of feature j (missing applies them) */
	qs_node    *miss;
	float	   *leaves;			/* (n_trees * 64) leaf values, left to right */
} qs_model;

static int
cmp_node(const void *a, const void *b)
{
	const qs_node *x = a,
			   *y = b;

	return x->cond < y->cond ? -1 : x->cond > y->cond;
}

/* Number leaves left to right below k; returns the mask of k's subtree leaves. */
static uint64_t
qs_number(const gbt_tree *t, int32_t k, int *next, float *leaves, uint64_t *sub)
{
	if (t->left[k] < 0)
	{
		leaves[*next] = t->split_cond[k];
		sub[k] = (uint64_t) 1 << (*next)++;
		return sub[k];
	}
	sub[k] = qs_number(t, t->left[k], next, leaves, sub) | qs_number(t, t->right[k], next, leaves, sub);
	return sub[k];
}

static qs_model *
qs_build(const gbt_model *m)
{
	qs_model   *q = calloc(1, sizeof(qs_model));
	int32_t		i,
				k,
				n = 0,
				nm = 0,
				j;
	int32_t    *cnt = calloc(P + 1, sizeof(int32_t)),
			   *mcnt = calloc(P + 1, sizeof(int32_t));

	q->n_trees = m->n_trees;
	q->leaves = calloc((size_t) m->n_trees * 64, sizeof(float));
	for (i = 0; i < m->n_trees; i++)
		for (k = 0; k < m->trees[i].n_nodes; k++)
			if (m->trees[i].left[k] >= 0)
			{
				cnt[m->trees[i].split_index[k] + 1]++;
				mcnt[m->trees[i].split_index[k] + 1] += !m->trees[i].default_left[k];
				n++;
			}
	for (j = 0; j < P; j++)
	{
		cnt[j + 1] += cnt[j];
		mcnt[j + 1] += mcnt[j];
	}
	q->off = malloc(sizeof(int32_t) * (P + 1));
	q->moff = malloc(sizeof(int32_t) * (P + 1));
	memcpy(q->off, cnt, sizeof(int32_t) * (P + 1));
	memcpy(q->moff, mcnt, sizeof(int32_t) * (P + 1));
	q->nodes = malloc(sizeof(qs_node) * (size_t) n);
	q->miss = malloc(sizeof(qs_node) * (size_t) (mcnt[P] ? mcnt[P] : 1));
	for (i = 0; i < m->n_trees; i++)
	{
		const gbt_tree *t = &m->trees[i];
		uint64_t   *sub = calloc((size_t) t->n_nodes, sizeof(uint64_t));
		int			next = 0;

		qs_number(t, 0, &next, q->leaves + (size_t) i * 64, sub);
		for (k = 0; k < t->n_nodes; k++)
			if (t->left[k] >= 0)
			{
				qs_node		nd = {t->split_cond[k], i, ~sub[t->left[k]]};

				q->nodes[cnt[t->split_index[k]]++] = nd;
				if (!t->default_left[k])
					q->miss[mcnt[t->split_index[k]]++] = nd;
			}
		free(sub);
	}
	for (j = 0; j < P; j++)
		qsort(q->nodes + q->off[j], (size_t) (q->off[j + 1] - q->off[j]), sizeof(qs_node), cmp_node);
	(void) nm;
	free(cnt);
	free(mcnt);
	return q;
}

static float
qs_margin(const qs_model *q, const double *x, float base)
{
	uint64_t	v[1024];
	int32_t		i,
				j;
	float		s = base;

	for (i = 0; i < q->n_trees; i++)
		v[i] = ~(uint64_t) 0;
	for (j = 0; j < P; j++)
	{
		float		xv = (float) x[j];

		if (xv != xv)
		{
			for (i = q->moff[j]; i < q->moff[j + 1]; i++)
				v[q->miss[i].tree] &= q->miss[i].mask;
			continue;
		}
		/* false nodes: x >= cond; sorted by cond, so stop at the first true one */
		for (i = q->off[j]; i < q->off[j + 1] && !(xv < q->nodes[i].cond); i++)
			v[q->nodes[i].tree] &= q->nodes[i].mask;
	}
	for (i = 0; i < q->n_trees; i++)
		s += q->leaves[(size_t) i * 64 + __builtin_ctzll(v[i])];
	return s;
}

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Score rows with the scorer named; returns the sum (so nothing is optimised away). */
static double
score_rows(const gbt_model *m, const gbt_fast *walk, const char *which, const double *x, size_t rows)
{
	double		acc = 0.0;
	size_t		i,
				pollute = getenv("POLLUTE") ? (size_t) atol(getenv("POLLUTE")) * 1024 : 0;
	static char *junk;

	if (pollute && junk == NULL)
		junk = malloc(pollute);
	for (i = 0; i < rows; i++)
	{
		const double *r = x + i * P;

		if (pollute)
			memset(junk, (int) i, pollute);
		if (strcmp(which, "reference") == 0)
			acc += gbt_predict_margin_reference(m, r);
		else if (strcmp(which, "walk") == 0)
			acc += gbt_fast_margin(walk, r, m->base_margin);
		else
			acc += gbt_predict_margin(m, r);
	}
	return acc;
}

/* The timing mode: scorers in turn, thread CPU time per row. */
static void
time_scorers(sf_env *env, const gbt_model *m, const double *x, size_t rows)
{
	const char *names[3] = {"fast", "walk", "reference"};
	gbt_fast   *walk = NULL;
	size_t		i;
	int			round,
				k,
				bad[2] = {0, 0};

	if (gbt_fast_build(env, m->trees, m->n_trees, m->n_features, GBT_FAST_NO_BINS, &walk) != SF_OK ||
		walk == NULL)
		return;
	for (i = 0; i < rows; i++)
	{
		double		ref = gbt_predict_margin_reference(m, x + i * P);

		bad[0] += gbt_predict_margin(m, x + i * P) != ref;
		bad[1] += gbt_fast_margin(walk, x + i * P, m->base_margin) != ref;
	}
	printf("byte-code scorer built: %s; rows differing from the reference: fast %d, walk %d\n",
		   m->fast && m->fast->bins ? "yes" : "no", bad[0], bad[1]);
	for (round = 0; round < 5; round++)
		for (k = 0; k < 3; k++)
		{
			double		t0 = cpu_now(),
						acc = score_rows(m, walk, names[k], x, rows);

			printf("round %d %-9s %7.1f ns/row (sum %.3f)\n", round, names[k],
				   1e9 * (cpu_now() - t0) / rows, acc);
		}
	gbt_fast_free(env, walk);
}

int
main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "fast";
	size_t		rows = argc > 2 ? (size_t) atol(argv[2]) : 200000,
				n_train = argc > 3 ? (size_t) atol(argv[3]) : 50000,
				i;
	double	   *x = malloc(sizeof(double) * (rows > n_train ? rows : n_train) * P),
			   *y = malloc(sizeof(double) * n_train);
	gbt_params	prm = gbt_params_default();
	gbt_model  *m;
	sf_env		env;
	sf_rng		rng;
	qs_model   *q = NULL;
	double		acc = 0.0;
	int			j,
				bad = 0;

	sf_env_init_malloc(&env);
	env.threads = 2;
	sf_rng_init(&rng, 7, 0);
	for (i = 0; i < (rows > n_train ? rows : n_train); i++)
		for (j = 0; j < P; j++)
			x[i * P + j] = sf_rng_uniform(&rng) < 0.05 ? NAN : sf_rng_normal(&rng);
	for (i = 0; i < n_train; i++)
	{
		double		a = isnan(x[i * P]) ? 0 : x[i * P],
					b = isnan(x[i * P + 1]) ? 0 : x[i * P + 1],
					c = isnan(x[i * P + 2]) ? 0 : x[i * P + 2];

		y[i] = a * b + sin(2 * c) + 0.5 * sf_rng_normal(&rng) > 0;
	}
	prm.n_estimators = 100;
	prm.max_depth = 6;
	prm.eta = 0.1;
	if (gbt_train(&env, x, y, NULL, n_train, P, &prm, &m) != SF_OK)
		return 1;
	if (strcmp(which, "time") == 0)
	{
		time_scorers(&env, m, x, rows);
		return 0;
	}
	if (strcmp(which, "qs") == 0)
		q = qs_build(m);
	if (strcmp(which, "packed") == 0 || strcmp(which, "walk") == 0)
	{
		gbt_fast_free(&env, m->fast);
		m->fast = NULL;
		if (strcmp(which, "walk") == 0 &&
			gbt_fast_build(&env, m->trees, m->n_trees, P, GBT_FAST_NO_BINS, &m->fast) != SF_OK)
			return 1;
	}
	for (i = 0; i < rows; i++)
	{
		const double *r = x + i * P;
		double		s;

		if (strcmp(which, "none") == 0)
			s = r[0];
		else if (q != NULL)
		{
			s = qs_margin(q, r, m->base_margin);
			bad += s != gbt_predict_margin_reference(m, r) && i < 1000;
		}
		else if (strcmp(which, "reference") == 0)
			s = gbt_predict_margin_reference(m, r);
		else
			s = gbt_predict_margin(m, r);
		acc += s;
	}
	printf("%s: %zu rows, sum %.6f, fast depth %d, %d mismatches in the first 1000\n", which, rows, acc,
		   m->fast ? m->fast->depth : -1, bad);
	return 0;
}
