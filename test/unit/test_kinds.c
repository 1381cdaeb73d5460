/*
 * test_kinds.c
 *	  Unit tests of the one table of model kinds (src/core/kinds.c): every
 *	  kind of sf_model_kind has an entry, every entry is wired for some use
 *	  (a row scorer or a curve), names and tags round-trip, the container's
 *	  name and version functions read the same table, the docs page named
 *	  exists, and a kind's decoder refuses another kind's bytes.  A kind
 *	  added to the enum but missing here fails this test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_kinds.h"
#include "scfrisk/gbt.h"
#include "scfrisk/nb.h"
#include "sf_test.h"

static sf_env env;

/*
 * A decoder allocates through env and, like the server's memory context, may
 * leave allocations behind when it refuses bytes: an arena that frees all of
 * them at once keeps LeakSanitizer quiet without special-casing decoders.
 */
#define ARENA_MAX 4096
static void *arena[ARENA_MAX];
static int	arena_n;

static void *
arena_alloc(void *ctx, size_t size)
{
	void	   *p;

	if (arena_n == ARENA_MAX || (p = malloc(size ? size : 1)) == NULL)
		return NULL;
	arena[arena_n++] = p;
	return p;
}

static void
arena_free(void *ctx, void *ptr)
{
	/* freed with the arena */
}

static void
arena_reset(void)
{
	while (arena_n > 0)
		free(arena[--arena_n]);
}

SF_TEST(test_every_kind_has_an_entry)
{
	int			t;

	for (t = SF_KIND_MIN; t <= SF_KIND_MAX; t++)
		SF_OK(sf_kind_find((uint16_t) t) != NULL, "kind tag %d has an entry", t);
	SF_OK(sf_kind_find(0) == NULL, "tag 0 has none");
	SF_OK(sf_kind_find(SF_KIND_MAX + 1) == NULL, "the tag past SF_KIND_MAX has none");
	SF_OK(sf_kind_count() == (size_t) (SF_KIND_MAX - SF_KIND_MIN + 1),
		  "the table has one entry per tag (%zu)", sf_kind_count());
}

SF_TEST(test_entries_are_wired)
{
	size_t		i,
				j;

	for (i = 0; i < sf_kind_count(); i++)
	{
		const sf_kind *k = sf_kind_at(i);
		FILE	   *f;

		SF_OK(k->decode != NULL && k->n_features != NULL, "%s has a decoder and a width", k->name);
		SF_OK(k->describe != NULL, "%s describes its body (model_info holds its sections to it)", k->name);
		SF_OK((k->predict != NULL) != (k->curve != NULL), "%s has exactly one of a row scorer and a curve",
			  k->name);
		SF_OK(k->current_version >= 1, "%s has a format version", k->name);
		SF_OK(sf_kind_find_name(k->name) == k && sf_kind_find(k->tag) == k, "%s round-trips", k->name);
		SF_OK(strcmp(sf_kind_name(k->tag), k->name) == 0 && sf_kind_from_name(k->name) == k->tag &&
			  sf_kind_current_version(k->tag) == k->current_version,
			  "the container reads %s from the same table", k->name);
		f = fopen(k->doc, "r");	/* make unit runs from the repository root */
		SF_OK(f != NULL, "the docs page of %s (%s) exists", k->name, k->doc);
		if (f)
			fclose(f);
		if (i > 0)
			SF_OK(sf_kind_at(i - 1)->tag < k->tag, "the table is in tag order at %s", k->name);
		for (j = 0; j < i; j++)
			SF_OK(strcmp(sf_kind_at(j)->name, k->name) != 0, "%s is named once", k->name);
	}
}

SF_TEST(test_decoders_refuse_other_kinds)
{
	size_t		i,
				j;

	for (i = 0; i < sf_kind_count(); i++)
	{
		const sf_kind *k = sf_kind_at(i);

		for (j = 0; j < sf_kind_count(); j++)
		{
			const sf_kind *other = sf_kind_at(j);
			sf_buf		b;
			void	   *model = NULL;
			sf_status	st;

			if (other == k)
				continue;
			/* a bare container of the other kind: refused for its kind, not parsed */
			sf_buf_init(&b, &env);
			sf_container_begin(&b, other->tag, 3);
			SF_OK(sf_container_finish(&b) == SF_OK, "container of %s", other->name);
			st = k->decode(&env, b.data, b.len, &model);
			SF_OK(st == SF_EKIND, "%s's decoder refuses a %s model with SF_EKIND (got %d)", k->name,
				  other->name, (int) st);
			arena_reset();
		}
	}
}

/*
 * Calibration's folds train through the table (sf_kind_fold_fit): an entry
 * with a fit has the free and row scorer the adapter calls, and the adapter
 * gives exactly the scores of the kind's own fit and predict on the same rows
 * (gaussian_nb here; the md5 checks of calibrated models cover the others).
 */
SF_TEST(test_fold_fit_is_the_kinds_fit)
{
	enum
	{
		N = 80, NS = 20, P = 3
	};
	double		x[N * P],
				y[N],
				xs[NS * P],
				prob[NS];
	uint64_t	s = 12345;
	size_t		i;
	nb_params	nbp;
	nb_model	nbm;
	gbt_params	gbp;
	gbt_model  *gbm;
	sf_kind_fold fold;

	for (i = 0; i < sf_kind_count(); i++)
	{
		const sf_kind *k = sf_kind_at(i);

		if (k->fit)
			SF_OK(k->free_model != NULL && k->predict != NULL && k->params != NULL,
				  "%s's fit has a free, a row scorer and a params table", k->name);
		else
			SF_OK(k->free_model == NULL, "%s has no free without a fit", k->name);
	}
	for (i = 0; i < (size_t) (N + NS) * P; i++)
	{
		double		u;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		u = (double) (s >> 11) / 9007199254740992.0 * 4.0 - 2.0;
		if (i < N * P)
			x[i] = u;
		else
			xs[i - N * P] = u;
	}
	for (i = 0; i < N; i++)
		y[i] = x[i * P] + 0.5 * x[i * P + 1] > 0.3 * x[i * P + 2] ? 1.0 : 0.0;

	sf_params_defaults(&nb_params_table, &nbp);
	fold = (sf_kind_fold) {sf_kind_find(SF_KIND_GAUSSIAN_NB), &nbp, P};
	SF_OK(sf_kind_fold_fit(&fold, &env, x, y, N, xs, NS, prob) == SF_OK, "gaussian_nb folds fit");
	SF_OK(nb_fit(&env, &nbp, x, y, N, P, &nbm) == SF_OK, "nb_fit");
	for (i = 0; i < NS; i++)
		SF_OK(prob[i] == nb_predict(&nbm, xs + i * P), "gaussian_nb fold score %zu is nb_predict's", i);

	/* a kind whose core allocates its model (gbt_train's gbt_model **) */
	sf_params_defaults(&gbt_params_table, &gbp);
	gbp.n_estimators = 4;
	fold = (sf_kind_fold) {sf_kind_find(SF_KIND_GBT), &gbp, P};
	SF_OK(sf_kind_fold_fit(&fold, &env, x, y, N, xs, NS, prob) == SF_OK, "gbt folds fit");
	SF_OK(gbt_train(&env, x, y, NULL, N, P, &gbp, &gbm) == SF_OK, "gbt_train");
	for (i = 0; i < NS; i++)
		SF_OK(prob[i] == gbt_predict(gbm, xs + i * P), "gbt fold score %zu is gbt_predict's", i);
	gbt_model_free(&env, gbm);
	arena_reset();
}

int
main(void)
{
	sf_env_init_malloc(&env);
	env.alloc.alloc = arena_alloc;
	env.alloc.free = arena_free;
	SF_RUN(test_every_kind_has_an_entry);
	SF_RUN(test_entries_are_wired);
	SF_RUN(test_decoders_refuse_other_kinds);
	SF_RUN(test_fold_fit_is_the_kinds_fit);
	return sf_test_done();
}
