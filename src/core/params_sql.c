/*
 * params_sql.c
 *	  jsonb hyperparameters into typed C structs (sf_params.h).
 *
 * The jsonb object is walked key by key; each key is looked up in the
 * kind's sf_param_table and handed to the typed setter of the core, which
 * checks the range.  Unknown keys, JSON values of the wrong type and values
 * out of range are ERRCODE_INVALID_PARAMETER_VALUE errors that name the key
 * (as "xgb.max_depth" inside nested objects).  A JSON null leaves the
 * default in place.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include <math.h>

#include "scfrisk_pg.h"

#define SF_PARAM_PATH_MAX 128

static void ParseObject(sf_env *env, JsonbContainer *jc, const sf_param_table *t, void *obj,
						const char *prefix);

static void
ParamError(const sf_param_table *t, const char *fmt, const char *path)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg(fmt, t->name, path)));
}

static double
NumericToDouble(Numeric n)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(n)));
}

/* Apply one JSON array to a list-valued parameter. */
static void
ParseArray(sf_env *env, JsonbContainer *jc, const sf_param_spec *s, void *obj,
		   const sf_param_table *t, const char *path)
{
	int			n = JsonContainerSize(jc);
	double	   *nums = palloc(sizeof(double) * Max(n, 1));
	const char **strs = palloc(sizeof(char *) * Max(n, 1));
	size_t	   *lens = palloc(sizeof(size_t) * Max(n, 1));
	int			count = 0;
	bool		want_str = (s->type == SF_PT_STR_LIST);
	JsonbIterator *it = JsonbIteratorInit(jc);
	JsonbValue	v;
	JsonbIteratorToken r;

	if (!SF_PT_IS_ARRAY(s->type))
		ParamError(t, "%s: parameter \"%s\" must not be an array", path);

	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (r != WJB_ELEM)
			continue;
		if (count >= n)
			break;
		if (want_str && v.type == jbvString)
		{
			strs[count] = v.val.string.val;
			lens[count] = v.val.string.len;
		}
		else if (!want_str && v.type == jbvNumeric)
			nums[count] = NumericToDouble(v.val.numeric);
		else
			ParamError(t, want_str ? "%s: parameter \"%s\" must be an array of strings"
					   : "%s: parameter \"%s\" must be an array of numbers", path);
		count++;
	}
	if (want_str)
		SF_PG_CHECK(sf_params_set_str_list(env, s, obj, path, strs, lens, count), env, t->name);
	else
		SF_PG_CHECK(sf_params_set_int_list(env, s, obj, path, nums, count), env, t->name);
}

static void
ParseObject(sf_env *env, JsonbContainer *jc, const sf_param_table *t, void *obj,
			const char *prefix)
{
	JsonbIterator *it = JsonbIteratorInit(jc);
	JsonbValue	v;
	JsonbIteratorToken r;
	char		path[SF_PARAM_PATH_MAX];

	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const sf_param_spec *s;

		if (r != WJB_KEY)
			continue;
		snprintf(path, sizeof(path), "%s%s%.*s", prefix, prefix[0] ? "." : "",
				 Min(v.val.string.len, 64), v.val.string.val);
		s = sf_params_find(t, v.val.string.val, v.val.string.len);
		if (s == NULL)
		{
			char		keys[512];

			sf_params_key_list(t, keys, sizeof(keys));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: unknown parameter \"%s\"", t->name, path),
					 errhint("Accepted parameters are: %s.", keys)));
		}
		r = JsonbIteratorNext(&it, &v, true);
		if (r != WJB_VALUE)
			elog(ERROR, "scfrisk: unexpected jsonb iterator token %d", (int) r);

		switch (v.type)
		{
			case jbvNull:
				break;			/* null keeps the default */
			case jbvNumeric:
				if (s->type == SF_PT_INT64)
				{
					double		d = NumericToDouble(v.val.numeric);

					if (!(fabs(d) < 9.2e18) || d != floor(d))
						ParamError(t, "%s: parameter \"%s\" must be a whole number in the bigint range",
								   path);
					SF_PG_CHECK(sf_params_set_int64(env, s, obj, path,
													DatumGetInt64(DirectFunctionCall1(numeric_int8,
																					  NumericGetDatum(v.val.numeric)))),
								env, t->name);
				}
				else
					SF_PG_CHECK(sf_params_set_number(env, s, obj, path,
													 NumericToDouble(v.val.numeric)),
								env, t->name);
				break;
			case jbvBool:
				SF_PG_CHECK(sf_params_set_bool(env, s, obj, path, v.val.boolean), env, t->name);
				break;
			case jbvString:
				SF_PG_CHECK(sf_params_set_enum(env, s, obj, path, v.val.string.val,
											   v.val.string.len), env, t->name);
				break;
			case jbvBinary:
				if (JsonContainerIsObject(v.val.binary.data))
				{
					if (s->type != SF_PT_OBJECT)
						ParamError(t, "%s: parameter \"%s\" must not be an object", path);
					ParseObject(env, v.val.binary.data, s->sub, SF_PARAM_FIELD(obj, s, char), path);
				}
				else
					ParseArray(env, v.val.binary.data, s, obj, t, path);
				break;
			default:
				ParamError(t, "%s: parameter \"%s\" has an unsupported JSON type", path);
		}
	}
}

void
SfParseParams(Jsonb *jb, const sf_param_table *t, void *obj)
{
	sf_env		env;

	SfEnvInit(&env, CurrentMemoryContext);
	sf_params_defaults(t, obj);
	if (jb != NULL)
	{
		if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: params must be a JSON object", t->name),
					 errhint("Pass for example '{}'::jsonb for the defaults.")));
		ParseObject(&env, &jb->root, t, obj, "");
	}
	SF_PG_CHECK(sf_params_validate(&env, t, obj), &env, t->name);
}
