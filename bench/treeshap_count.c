/*
 * treeshap_count.c
 *	  TreeSHAP's cores alone (no server) on the model of bench/explain_bench.py,
 *	  for instruction counts: the reference walk (sf_treeshap) and the
 *	  precomputed tables (sf_treeshap_plan_run) on the same rows, under
 *	  valgrind's callgrind, which counts instructions exactly and does not
 *	  move with the machine's load.
 *
 *	  bench/treeshap_count.sh [ROWS] [TRAIN_ROWS] [ROUNDS]
 *
 *	  treeshap_count MODEL.json ROWS MODE   (MODE: ref, plan or both)
 *
 * Rows: 20 standard normal features, 5% missing, as the benchmark's.
 * Prints the largest |plan - reference| over the rows when MODE is both.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/explain_treeshap.h"
#include "scfrisk/gbt.h"
#include "scfrisk/sf_explain.h"
#include "scfrisk/sf_rng.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t) ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(*len + 1);
	if (fread(buf, 1, *len, f) != *len)
		*len = 0;
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	size_t		len = 0,
				n = argc > 2 ? strtoul(argv[2], NULL, 10) : 200,
				i;
	const char *mode = argc > 3 ? argv[3] : "both";
	char	   *text = argc > 1 ? slurp(argv[1], &len) : NULL;
	gbt_model  *m;
	sf_treeshap_plan *p;
	sf_str_list names;
	sf_env		env;
	sf_rng		rng;
	double	   *x,
			   *a,
			   *b,
				worst = 0,
				sink = 0;
	uint32_t	j;

	sf_env_init_malloc(&env);
	if (text == NULL || len == 0 || gbt_from_xgb_json(&env, text, len, &m, &names) != SF_OK)
	{
		fprintf(stderr, "usage: treeshap_count MODEL.json ROWS [ref|plan|both] (%s)\n", env.msg);
		return 2;
	}
	if (sf_treeshap_plan_build(&env, m->trees, m->n_trees, 1.0, (double) m->base_margin,
							   m->n_features, SF_TREESHAP_TABLE_BUDGET, &p) != SF_OK)
		return 1;
	x = malloc(sizeof(double) * m->n_features);
	a = malloc(sizeof(double) * (m->n_features + 1));
	b = malloc(sizeof(double) * (m->n_features + 1));
	sf_rng_init(&rng, 2, 0);
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < m->n_features; j++)
			x[j] = sf_rng_uniform(&rng) < 0.05 ? NAN : sf_rng_normal(&rng);
		if (strcmp(mode, "ref") != 0)
			sf_treeshap_plan_run(&env, p, x, a);
		if (strcmp(mode, "plan") != 0)
			sf_treeshap(&env, m, x, b);
		for (j = 0; j <= m->n_features; j++)
		{
			if (strcmp(mode, "both") == 0 && fabs(a[j] - b[j]) > worst)
				worst = fabs(a[j] - b[j]);
			sink += strcmp(mode, "ref") == 0 ? b[j] : a[j];
		}
	}
	printf("trees %d, tabled %d, rows %zu, checksum %.6g", (int) m->n_trees,
		   (int) sf_treeshap_plan_tabled(p), n, sink);
	if (strcmp(mode, "both") == 0)
		printf(", max |plan - reference| %.3g", worst);
	printf("\n");
	return 0;
}
