/*
 * fuzz_gbt_json.c
 *	  libFuzzer target for the XGBoost JSON importer.  Any text must import
 *	  or be refused with a status and a message; an imported model must
 *	  score rows of zeros and NaN, export to JSON that imports again, and
 *	  encode to bytes that decode.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/gbt.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
free_names(sf_env *env, sf_str_list *names)
{
	int			i;

	for (i = 0; i < names->n; i++)
		sf_free(env, names->v[i]);
	sf_free(env, names->v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sf_env		env;
	gbt_model  *m = NULL,
			   *m2 = NULL,
			   *m3 = NULL;
	sf_str_list names,
				names2;
	sf_status	st;

	sf_env_init_malloc(&env);
	st = gbt_from_xgb_json(&env, (const char *) data, size, &m, &names);
	if (st != SF_OK)
	{
		if (env.msg == NULL || m != NULL)
			abort();
		return 0;
	}
	{
		double	   *x = calloc(m->n_features, sizeof(double));
		sf_buf		js,
					bin;

		(void) gbt_predict(m, x);
		x[0] = NAN;
		(void) gbt_predict_margin(m, x);
		sf_buf_init(&js, &env);
		if (gbt_to_xgb_json(&env, m, names.n ? (const char *const *) names.v : NULL, &js) != SF_OK)
			abort();
		if (gbt_from_xgb_json(&env, (const char *) js.data, js.len, &m2, &names2) != SF_OK)
			abort();
		if (gbt_predict(m2, x) != gbt_predict(m, x) && !isnan(gbt_predict(m, x)))
			abort();
		sf_buf_init(&bin, &env);
		if (gbt_encode(&env, m, NULL, names.n ? (const char *const *) names.v : NULL, 0, &bin) != SF_OK)
			abort();
		if (gbt_decode(&env, bin.data, bin.len, &m3) != SF_OK)
			abort();
		sf_buf_free(&js);
		sf_buf_free(&bin);
		free(x);
		free_names(&env, &names2);
		gbt_model_free(&env, m2);
		gbt_model_free(&env, m3);
	}
	free_names(&env, &names);
	gbt_model_free(&env, m);
	return 0;
}
