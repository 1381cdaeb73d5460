/*
 * sf_params.h
 *	  Typed hyperparameter tables: names, types, defaults and ranges, checked
 *	  in pure C.
 *
 * Each trainable kind describes its params struct with a table of
 * sf_param_spec (liblinear's 'parameter' struct, made self-describing).  The
 * SQL wrapper walks the user's jsonb object, looks each key up with
 * sf_params_find (unknown keys are errors naming the key), and calls the
 * typed setter, which checks the range and names the key in its message.
 * sf_params_to_json writes every parameter, defaults included, in table
 * order: the canonical JSON text stored in the model, so the same params give
 * the same bytes.  Nested objects (the hybrid's "xgb" and "mlp") are
 * SF_PT_OBJECT entries pointing at another table.
 */
#ifndef SCFRISK_SF_PARAMS_H
#define SCFRISK_SF_PARAMS_H

#include "scfrisk/sf_core.h"
#include "scfrisk/sf_container.h"

#define SF_PARAM_LIST_MAX	32	/* longest integer list (hidden layer sizes) */

typedef enum sf_param_type
{
	SF_PT_DOUBLE,				/* double */
	SF_PT_INT,					/* int; JSON number that is a whole number */
	SF_PT_INT64,				/* int64_t (seeds) */
	SF_PT_BOOL,					/* int 0/1; JSON true/false */
	SF_PT_ENUM,					/* int index into choices; JSON string */
	SF_PT_INT_LIST,				/* sf_int_list; JSON array of whole numbers */
	SF_PT_STR_LIST,				/* sf_str_list; JSON array of strings */
	SF_PT_INT_VEC,				/* sf_int_vec; JSON array of whole numbers, any length */
	SF_PT_OBJECT				/* nested struct described by 'sub' */
} sf_param_type;

typedef struct sf_int_list
{
	int			n;
	int			v[SF_PARAM_LIST_MAX];
} sf_int_list;

/* Strings owned by the params' allocator; freed by sf_params_free. */
typedef struct sf_str_list
{
	int			n;
	char	  **v;
} sf_str_list;

/*
 * An integer list of any length (one entry per feature, as XGBoost's
 * monotone_constraints), owned by the params' allocator and freed by
 * sf_params_free.  The spec's min and max bound the elements, as for
 * sf_int_list; the length is checked by the kind (against the width).
 */
typedef struct sf_int_vec
{
	int			n;
	int32_t    *v;
} sf_int_vec;

/* True for the array-valued types. */
#define SF_PT_IS_ARRAY(t) ((t) == SF_PT_INT_LIST || (t) == SF_PT_STR_LIST || (t) == SF_PT_INT_VEC)

struct sf_param_table;

typedef struct sf_param_spec
{
	const char *name;			/* JSON key */
	sf_param_type type;
	size_t		offset;			/* offsetof() the field in the params struct */
	double		def;			/* default: value, 0/1, or enum index */
	double		min;			/* inclusive lower bound (numbers, list elements) */
	double		max;			/* inclusive upper bound */
	int			min_open;		/* lower bound is exclusive */
	int			max_open;		/* upper bound is exclusive */
	const char *const *choices; /* SF_PT_ENUM: names, NULL-terminated */
	const struct sf_param_table *sub;	/* SF_PT_OBJECT: nested table */
	const char *doc;			/* one line for docs and error hints */
	int			transient;		/* a run-time switch (verbose) left out of the
								 * canonical JSON, so it never changes a model */
} sf_param_spec;

typedef struct sf_param_table
{
	const char *name;			/* what the params belong to ("xgb_train") */
	const sf_param_spec *specs;
	int			n_specs;
	/* optional cross-field check after all keys are set; NULL if none */
	sf_status	(*validate) (sf_env *env, const void *obj);
} sf_param_table;

/* Write every default into obj (lists empty unless the default says so). */
extern void sf_params_defaults(const sf_param_table *t, void *obj);

/* The spec for a key, or NULL. */
extern const sf_param_spec *sf_params_find(const sf_param_table *t, const char *key, size_t keylen);

/* Comma-separated list of accepted keys into buf (for "unknown key" hints). */
extern void sf_params_key_list(const sf_param_table *t, char *buf, size_t buflen);

/*
 * Typed setters: check type and range, store into obj, or return SF_EINVAL
 * with env->msg naming 'path' (the key, "xgb.max_depth" when nested).
 */
extern sf_status sf_params_set_number(sf_env *env, const sf_param_spec *s, void *obj,
									  const char *path, double v);
extern sf_status sf_params_set_int64(sf_env *env, const sf_param_spec *s, void *obj,
									 const char *path, int64_t v);
extern sf_status sf_params_set_bool(sf_env *env, const sf_param_spec *s, void *obj,
									const char *path, int v);
extern sf_status sf_params_set_enum(sf_env *env, const sf_param_spec *s, void *obj,
									const char *path, const char *str, size_t len);
extern sf_status sf_params_set_int_list(sf_env *env, const sf_param_spec *s, void *obj,
										const char *path, const double *v, int n);
/* Copies the strings through env's allocator. */
extern sf_status sf_params_set_str_list(sf_env *env, const sf_param_spec *s, void *obj,
										const char *path, const char *const *v,
										const size_t *lens, int n);

/* Run the table's validate hook, and those of nested tables. */
extern sf_status sf_params_validate(sf_env *env, const sf_param_table *t, const void *obj);

/* Canonical JSON text of obj (all keys but transient ones, table order) appended to out. */
extern void sf_params_to_json(const sf_param_table *t, const void *obj, sf_buf *out);

/* Free what the setters allocated (string lists), recursively. */
extern void sf_params_free(sf_env *env, const sf_param_table *t, void *obj);

/* Field access helpers for the table walkers. */
#define SF_PARAM_FIELD(obj, spec, type) ((type *) ((char *) (obj) + (spec)->offset))

#endif							/* SCFRISK_SF_PARAMS_H */
