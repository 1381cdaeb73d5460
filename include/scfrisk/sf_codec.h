/*
 * sf_codec.h
 *	  The metadata prelude every kind's codec writes first and reads back:
 *	  the container header, then the common sections in tag order (params,
 *	  feature names, rows trained on, seed, info; sf_container.h).
 *
 * A kind's encoder fills an sf_prelude with what it has and calls
 * sf_prelude_put, then writes its info section itself when a function of
 * the model prints it (info_json NULL), then its body sections from
 * SF_TAG_BODY.  A decoder calls sf_prelude_get after sf_container_decode_kind
 * for the fields it keeps.  Absent parts write no section, so the bytes are
 * those each codec wrote by hand before (docs/format.md).
 */
#ifndef SCFRISK_SF_CODEC_H
#define SCFRISK_SF_CODEC_H

#include <stdbool.h>

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_params.h"

typedef struct sf_prelude
{
	/* params section: JSON of 'params' through its table, else the kept text
	 * params_json (a decoded model re-encoding), else none */
	const sf_param_table *params_table;
	const void *params;
	const char *params_json;
	const char *const *names;	/* n_features names, or NULL: no names section */
	uint64_t	rows;			/* rows trained on: always written */
	bool		has_seed;		/* write the seed section */
	uint64_t	seed;
	const char *info_json;		/* info text, or NULL: the caller writes it (or none) */
	/* else the model whose info section is what its kind's describe writes
	 * (the table of kinds, sf_kinds.h): model_info reads the same JSON */
	const void *described;
} sf_prelude;

/* Begin the container of kind and write the prelude's sections. */
extern void sf_prelude_put(sf_buf *b, uint16_t kind, uint32_t n_features, const sf_prelude *p);

/*
 * Read the prelude of a decoded container into the non-NULL pointers: rows
 * and seed (left as they are when the section is absent or not 8 bytes),
 * NUL-terminated copies of the params and info texts allocated through env
 * (NULL when absent).  SF_ENOMEM, naming what, when a copy cannot be made.
 */
extern sf_status sf_prelude_get(sf_env *env, const sf_container *c, const char *what,
								uint64_t *rows, int64_t *seed, char **params_json,
								char **info_json);

/*
 * A decoder into a model struct the caller owns (zeroed by it): the
 * container of kind decoded with its width in 1..max_features
 * (sf_container_decode_width), then body, which fills model from the
 * container (its width, prelude and body sections); release frees what
 * body filled when body fails.
 */
extern sf_status sf_decode_model(sf_env *env, const uint8_t *buf, size_t len, uint16_t kind,
								 uint32_t max_features, void *model,
								 sf_status (*body) (sf_env *env, const sf_container *c, void *model),
								 void (*release) (sf_env *env, void *model));

/*
 * The decoder of a kind whose core fills a model struct the caller owns,
 * prefix_decode(env, buf, len, m): m zeroed, then sf_decode_model with the
 * kind's body function and prefix_free as the release.
 */
#define SF_DECODE_BY_VALUE(prefix, model_t, kind, max_features, body) \
static void \
prefix##_release(sf_env *env, void *model) \
{ \
	prefix##_free(env, (model_t *) model); \
} \
sf_status \
prefix##_decode(sf_env *env, const uint8_t *buf, size_t len, model_t *m) \
{ \
	memset(m, 0, sizeof(*m)); \
	return sf_decode_model(env, buf, len, (kind), (max_features), m, (body), prefix##_release); \
} \
extern int	no_such_variable

#endif							/* SCFRISK_SF_CODEC_H */
