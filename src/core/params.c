/*
 * params.c
 *	  Typed hyperparameter tables (see sf_params.h): defaults, range-checked
 *	  setters whose messages name the key, and canonical JSON output.
 *
 * The canonical JSON lists every key of the table in table order, numbers
 * printed with "%.17g" (round-trip exact), so equal params give equal bytes
 * in the model and model_info shows the defaults that were in force.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_params.h"

void
sf_params_defaults(const sf_param_table *t, void *obj)
{
	int			i;

	for (i = 0; i < t->n_specs; i++)
	{
		const sf_param_spec *s = &t->specs[i];

		switch (s->type)
		{
			case SF_PT_DOUBLE:
				*SF_PARAM_FIELD(obj, s, double) = s->def;
				break;
			case SF_PT_INT:
			case SF_PT_BOOL:
			case SF_PT_ENUM:
				*SF_PARAM_FIELD(obj, s, int) = (int) s->def;
				break;
			case SF_PT_INT64:
				*SF_PARAM_FIELD(obj, s, int64_t) = (int64_t) s->def;
				break;
			case SF_PT_INT_LIST:
				SF_PARAM_FIELD(obj, s, sf_int_list)->n = 0;
				break;
			case SF_PT_STR_LIST:
				SF_PARAM_FIELD(obj, s, sf_str_list)->n = 0;
				SF_PARAM_FIELD(obj, s, sf_str_list)->v = NULL;
				break;
			case SF_PT_INT_VEC:
				SF_PARAM_FIELD(obj, s, sf_int_vec)->n = 0;
				SF_PARAM_FIELD(obj, s, sf_int_vec)->v = NULL;
				break;
			case SF_PT_OBJECT:
				sf_params_defaults(s->sub, SF_PARAM_FIELD(obj, s, char));
				break;
		}
	}
}

const sf_param_spec *
sf_params_find(const sf_param_table *t, const char *key, size_t keylen)
{
	int			i;

	for (i = 0; i < t->n_specs; i++)
		if (strlen(t->specs[i].name) == keylen &&
			memcmp(t->specs[i].name, key, keylen) == 0)
			return &t->specs[i];
	return NULL;
}

void
sf_params_key_list(const sf_param_table *t, char *buf, size_t buflen)
{
	size_t		used = 0;
	int			i;

	if (buflen == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < t->n_specs; i++)
	{
		int			n = snprintf(buf + used, buflen - used, "%s%s", i ? ", " : "",
								 t->specs[i].name);

		if (n < 0 || (size_t) n >= buflen - used)
			break;
		used += (size_t) n;
	}
}

/* Describe the allowed range, e.g. "between 0 and 1" or "greater than 0". */
static void
range_text(const sf_param_spec *s, char *buf, size_t len)
{
	int			has_min = !isinf(s->min);
	int			has_max = !isinf(s->max);

	if (has_min && has_max)
		snprintf(buf, len, "in %s%.17g, %.17g%s", s->min_open ? "(" : "[", s->min, s->max,
				 s->max_open ? ")" : "]");
	else if (has_min)
		snprintf(buf, len, "%s %.17g", s->min_open ? "greater than" : "at least", s->min);
	else if (has_max)
		snprintf(buf, len, "%s %.17g", s->max_open ? "less than" : "at most", s->max);
	else
		snprintf(buf, len, "finite");
}

static int
in_range(const sf_param_spec *s, double v)
{
	if (isnan(v) || isinf(v))
		return 0;
	if (s->min_open ? !(v > s->min) : !(v >= s->min))
		return 0;
	if (s->max_open ? !(v < s->max) : !(v <= s->max))
		return 0;
	return 1;
}

/* A number as short as prints it back exactly (0.3, not 0.29999999999999999). */
static void
number_text(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
}

/*
 * The hint of a value out of range: what the parameter is (the spec's doc),
 * what it accepts, and that leaving it out gives the default, so the user
 * can fix the call from the error alone.
 */
static void
hint_accepted(sf_env *env, const sf_param_spec *s, const char *path, const char *accepts)
{
	char		def[64];

	if (s->type == SF_PT_ENUM && s->choices)
		snprintf(def, sizeof(def), "\"%s\"", s->choices[(int) s->def]);
	else
		number_text(s->def, def, sizeof(def));
	if (SF_PT_IS_ARRAY(s->type))
		sf_hint(env, "Every element of \"%s\" (%s) must be %s.", path, s->doc ? s->doc : s->name,
				accepts);
	else
		sf_hint(env, "Pass \"%s\" (%s) %s, or leave it out for its default %s.", path,
				s->doc ? s->doc : s->name, accepts, def);
}

static sf_status
wrong_type(sf_env *env, const sf_param_spec *s, const char *path, const char *want)
{
	return sf_fail(env, SF_EINVAL, "parameter \"%s\" must be %s", path, want);
}

sf_status
sf_params_set_number(sf_env *env, const sf_param_spec *s, void *obj, const char *path, double v)
{
	char		range[96];

	if (s->type != SF_PT_DOUBLE && s->type != SF_PT_INT && s->type != SF_PT_INT64)
		return wrong_type(env, s, path,
						  s->type == SF_PT_BOOL ? "true or false" :
						  s->type == SF_PT_ENUM ? "a string" :
						  s->type == SF_PT_OBJECT ? "an object" : "an array");
	if (s->type != SF_PT_DOUBLE && (isnan(v) || v != floor(v)))
		return wrong_type(env, s, path, "a whole number");
	if (!in_range(s, v))
	{
		range_text(s, range, sizeof(range));
		sf_fail(env, SF_EINVAL, "parameter \"%s\" must be %s, got %.17g", path, range, v);
		hint_accepted(env, s, path, range);
		return SF_EINVAL;
	}
	if (s->type == SF_PT_DOUBLE)
		*SF_PARAM_FIELD(obj, s, double) = v;
	else if (s->type == SF_PT_INT)
		*SF_PARAM_FIELD(obj, s, int) = (int) v;
	else
		*SF_PARAM_FIELD(obj, s, int64_t) = (int64_t) v;
	return SF_OK;
}

sf_status
sf_params_set_int64(sf_env *env, const sf_param_spec *s, void *obj, const char *path, int64_t v)
{
	if (s->type != SF_PT_INT64)
		return sf_params_set_number(env, s, obj, path, (double) v);
	/* int64 ranges are checked in double: exact for the bounds we use */
	if ((double) v < s->min || (double) v > s->max)
	{
		char		range[96];

		range_text(s, range, sizeof(range));
		sf_fail(env, SF_EINVAL, "parameter \"%s\" must be %s, got %lld", path, range,
				(long long) v);
		hint_accepted(env, s, path, range);
		return SF_EINVAL;
	}
	*SF_PARAM_FIELD(obj, s, int64_t) = v;
	return SF_OK;
}

sf_status
sf_params_set_bool(sf_env *env, const sf_param_spec *s, void *obj, const char *path, int v)
{
	if (s->type != SF_PT_BOOL)
		return wrong_type(env, s, path, s->type == SF_PT_ENUM ? "a string" :
						  s->type == SF_PT_OBJECT ? "an object" :
						  SF_PT_IS_ARRAY(s->type) ? "an array" :
						  "a number");
	*SF_PARAM_FIELD(obj, s, int) = v ? 1 : 0;
	return SF_OK;
}

sf_status
sf_params_set_enum(sf_env *env, const sf_param_spec *s, void *obj, const char *path,
				   const char *str, size_t len)
{
	char		choices[256];
	size_t		used = 0;
	int			i;

	if (s->type != SF_PT_ENUM)
		return wrong_type(env, s, path, s->type == SF_PT_BOOL ? "true or false" :
						  s->type == SF_PT_OBJECT ? "an object" :
						  SF_PT_IS_ARRAY(s->type) ? "an array" :
						  "a number");
	choices[0] = '\0';
	for (i = 0; s->choices[i] != NULL; i++)
	{
		int			n;

		if (strlen(s->choices[i]) == len && memcmp(s->choices[i], str, len) == 0)
		{
			*SF_PARAM_FIELD(obj, s, int) = i;
			return SF_OK;
		}
		n = snprintf(choices + used, sizeof(choices) - used, "%s\"%s\"", i ? ", " : "",
					 s->choices[i]);
		if (n > 0 && (size_t) n < sizeof(choices) - used)
			used += (size_t) n;
	}
	sf_fail(env, SF_EINVAL, "parameter \"%s\" must be one of %s, got \"%.*s\"", path,
			choices, (int) (len > 64 ? 64 : len), str);
	hint_accepted(env, s, path, "as one of the names above");
	return SF_EINVAL;
}

sf_status
sf_params_set_int_list(sf_env *env, const sf_param_spec *s, void *obj, const char *path,
					   const double *v, int n)
{
	sf_int_list *l;
	char		range[96];
	int			i;

	if (s->type != SF_PT_INT_LIST && s->type != SF_PT_INT_VEC)
		return wrong_type(env, s, path, s->type == SF_PT_STR_LIST ? "an array of strings" :
						  "not an array");
	if (s->type == SF_PT_INT_LIST && n > SF_PARAM_LIST_MAX)
		return sf_fail(env, SF_EINVAL, "parameter \"%s\" has %d elements, at most %d are allowed",
					   path, n, SF_PARAM_LIST_MAX);
	for (i = 0; i < n; i++)
	{
		if (isnan(v[i]) || v[i] != floor(v[i]))
			return sf_fail(env, SF_EINVAL, "element %d of parameter \"%s\" must be a whole number",
						   i + 1, path);
		if (!in_range(s, v[i]))
		{
			range_text(s, range, sizeof(range));
			sf_fail(env, SF_EINVAL, "element %d of parameter \"%s\" must be %s, got %.17g",
					i + 1, path, range, v[i]);
			hint_accepted(env, s, path, range);
			return SF_EINVAL;
		}
	}
	if (s->type == SF_PT_INT_VEC)
	{
		sf_int_vec *vec = SF_PARAM_FIELD(obj, s, sf_int_vec);

		sf_free(env, vec->v);
		vec->n = 0;
		vec->v = sf_calloc(env, (size_t) (n > 0 ? n : 1), sizeof(int32_t));
		if (vec->v == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory for parameter \"%s\"", path);
		for (i = 0; i < n; i++)
			vec->v[i] = (int32_t) v[i];
		vec->n = n;
		return SF_OK;
	}
	l = SF_PARAM_FIELD(obj, s, sf_int_list);
	l->n = n;
	for (i = 0; i < n; i++)
		l->v[i] = (int) v[i];
	return SF_OK;
}

sf_status
sf_params_set_str_list(sf_env *env, const sf_param_spec *s, void *obj, const char *path,
					   const char *const *v, const size_t *lens, int n)
{
	sf_str_list *l;
	int			i;

	if (s->type != SF_PT_STR_LIST)
		return wrong_type(env, s, path, (s->type == SF_PT_INT_LIST || s->type == SF_PT_INT_VEC) ? "an array of numbers" :
						  "not an array");
	if (n < 0 || (s->max >= 0 && !isinf(s->max) && n > s->max))
		return sf_fail(env, SF_EINVAL, "parameter \"%s\" has too many elements (%d)", path, n);
	l = SF_PARAM_FIELD(obj, s, sf_str_list);
	l->v = sf_calloc(env, (size_t) (n > 0 ? n : 1), sizeof(char *));
	if (l->v == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for parameter \"%s\"", path);
	l->n = 0;
	for (i = 0; i < n; i++)
	{
		if (memchr(v[i], '\0', lens[i]) != NULL)
			return sf_fail(env, SF_EINVAL, "element %d of parameter \"%s\" contains a NUL byte",
						   i + 1, path);
		l->v[i] = sf_malloc(env, lens[i] + 1);
		if (l->v[i] == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory for parameter \"%s\"", path);
		memcpy(l->v[i], v[i], lens[i]);
		l->v[i][lens[i]] = '\0';
		l->n = i + 1;
	}
	return SF_OK;
}

sf_status
sf_params_validate(sf_env *env, const sf_param_table *t, const void *obj)
{
	int			i;
	sf_status	st;

	for (i = 0; i < t->n_specs; i++)
		if (t->specs[i].type == SF_PT_OBJECT)
		{
			st = sf_params_validate(env, t->specs[i].sub,
									(const char *) obj + t->specs[i].offset);
			if (st != SF_OK)
				return st;
		}
	return t->validate ? t->validate(env, obj) : SF_OK;
}

/* Shortest of %.15g/%.16g/%.17g that reads back as the same double: exact,
 * deterministic, and 0.3 rather than 0.29999999999999999. */
static void
put_double(sf_buf *out, double v)
{
	char		num[40];
	int			prec;

	for (prec = 15; prec <= 17; prec++)
	{
		snprintf(num, sizeof(num), "%.*g", prec, v);
		if (strtod(num, NULL) == v)
			break;
	}
	sf_buf_put_str(out, num);
}

/* A JSON array of whole numbers: both integer list types hold int32 elements. */
static void
put_ints(sf_buf *out, const int32_t *v, int n)
{
	char		num[24];
	int			k;

	sf_buf_put_u8(out, '[');
	for (k = 0; k < n; k++)
	{
		snprintf(num, sizeof(num), "%s%d", k ? ", " : "", (int) v[k]);
		sf_buf_put_str(out, num);
	}
	sf_buf_put_u8(out, ']');
}

void
sf_params_to_json(const sf_param_table *t, const void *obj, sf_buf *out)
{
	char		num[40];
	int			i,
				k,
				first = 1;

	sf_buf_put_u8(out, '{');
	for (i = 0; i < t->n_specs; i++)
	{
		const sf_param_spec *s = &t->specs[i];

		if (s->transient)
			continue;
		if (!first)
			sf_buf_put_str(out, ", ");
		first = 0;
		sf_buf_put_json_string(out, s->name);
		sf_buf_put_str(out, ": ");
		switch (s->type)
		{
			case SF_PT_DOUBLE:
				put_double(out, *SF_PARAM_FIELD(obj, s, const double));
				break;
			case SF_PT_INT:
				snprintf(num, sizeof(num), "%d", *SF_PARAM_FIELD(obj, s, const int));
				sf_buf_put_str(out, num);
				break;
			case SF_PT_INT64:
				snprintf(num, sizeof(num), "%lld",
						 (long long) *SF_PARAM_FIELD(obj, s, const int64_t));
				sf_buf_put_str(out, num);
				break;
			case SF_PT_BOOL:
				sf_buf_put_str(out, *SF_PARAM_FIELD(obj, s, const int) ? "true" : "false");
				break;
			case SF_PT_ENUM:
				sf_buf_put_json_string(out, s->choices[*SF_PARAM_FIELD(obj, s, const int)]);
				break;
			case SF_PT_INT_LIST:
				put_ints(out, SF_PARAM_FIELD(obj, s, const sf_int_list)->v,
						 SF_PARAM_FIELD(obj, s, const sf_int_list)->n);
				break;
			case SF_PT_INT_VEC:
				put_ints(out, SF_PARAM_FIELD(obj, s, const sf_int_vec)->v,
						 SF_PARAM_FIELD(obj, s, const sf_int_vec)->n);
				break;
			case SF_PT_STR_LIST:
				{
					const sf_str_list *l = SF_PARAM_FIELD(obj, s, const sf_str_list);

					sf_buf_put_u8(out, '[');
					for (k = 0; k < l->n; k++)
					{
						if (k)
							sf_buf_put_str(out, ", ");
						sf_buf_put_json_string(out, l->v[k]);
					}
					sf_buf_put_u8(out, ']');
				}
				break;
			case SF_PT_OBJECT:
				sf_params_to_json(s->sub, (const char *) obj + s->offset, out);
				break;
		}
	}
	sf_buf_put_u8(out, '}');
}

void
sf_params_free(sf_env *env, const sf_param_table *t, void *obj)
{
	int			i,
				k;

	for (i = 0; i < t->n_specs; i++)
	{
		const sf_param_spec *s = &t->specs[i];

		if (s->type == SF_PT_STR_LIST)
		{
			sf_str_list *l = SF_PARAM_FIELD(obj, s, sf_str_list);

			for (k = 0; k < l->n; k++)
				sf_free(env, l->v[k]);
			sf_free(env, l->v);
			l->v = NULL;
			l->n = 0;
		}
		else if (s->type == SF_PT_INT_VEC)
		{
			sf_int_vec *l = SF_PARAM_FIELD(obj, s, sf_int_vec);

			sf_free(env, l->v);
			l->v = NULL;
			l->n = 0;
		}
		else if (s->type == SF_PT_OBJECT)
			sf_params_free(env, s->sub, SF_PARAM_FIELD(obj, s, char));
	}
}
