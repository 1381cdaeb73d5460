/*
 * codec.c
 *	  The metadata prelude shared by every kind's codec (sf_codec.h): one
 *	  writer and one reader of the common sections, so that the order of
 *	  the sections and the reading of rows, seed and texts live in one place.
 */
#include <string.h>

#include "scfrisk/sf_codec.h"
#include "scfrisk/sf_kinds.h"

void
sf_prelude_put(sf_buf *b, uint16_t kind, uint32_t n_features, const sf_prelude *p)
{
	sf_container_begin(b, kind, n_features);
	if (p->params_table && p->params)
	{
		size_t		mark = sf_section_begin(b, SF_TAG_PARAMS);

		sf_params_to_json(p->params_table, p->params, b);
		sf_section_end(b, mark);
	}
	else if (p->params_json)
		sf_section_put_text(b, SF_TAG_PARAMS, p->params_json, strlen(p->params_json));
	sf_section_put_names(b, p->names, n_features);
	sf_section_put_u64(b, SF_TAG_TRAIN_ROWS, p->rows);
	if (p->has_seed)
		sf_section_put_u64(b, SF_TAG_SEED, p->seed);
	if (p->info_json)
		sf_section_put_text(b, SF_TAG_INFO, p->info_json, strlen(p->info_json));
	else if (p->described)
	{
		size_t		mark = sf_section_begin(b, SF_TAG_INFO);

		sf_kind_find(kind)->describe(p->described, b);
		sf_section_end(b, mark);
	}
}

/* The 8-byte integer of a section, when it is there with that length. */
static bool
get_u64(const sf_container *c, uint16_t tag, uint64_t *v)
{
	const sf_section *s = sf_container_find(c, tag);
	sf_reader	r;

	if (s == NULL || s->len != 8)
		return false;
	sf_reader_init(&r, s->data, 8);
	*v = sf_read_u64(&r);
	return true;
}

/* A NUL-terminated copy of a text section, NULL when absent. */
static sf_status
get_text(sf_env *env, const sf_container *c, uint16_t tag, const char *what, char **out)
{
	const sf_section *s = sf_container_find(c, tag);

	*out = NULL;
	if (s == NULL)
		return SF_OK;
	*out = sf_malloc(env, (size_t) s->len + 1);
	if (*out == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a %s model", what);
	memcpy(*out, s->data, (size_t) s->len);
	(*out)[s->len] = '\0';
	return SF_OK;
}

sf_status
sf_prelude_get(sf_env *env, const sf_container *c, const char *what,
			   uint64_t *rows, int64_t *seed, char **params_json, char **info_json)
{
	uint64_t	v;
	sf_status	st;

	if (rows && get_u64(c, SF_TAG_TRAIN_ROWS, &v))
		*rows = v;
	if (seed && get_u64(c, SF_TAG_SEED, &v))
		*seed = (int64_t) v;
	if (params_json && (st = get_text(env, c, SF_TAG_PARAMS, what, params_json)) != SF_OK)
		return st;
	if (info_json && (st = get_text(env, c, SF_TAG_INFO, what, info_json)) != SF_OK)
		return st;
	return SF_OK;
}

sf_status
sf_decode_model(sf_env *env, const uint8_t *buf, size_t len, uint16_t kind, uint32_t max_features,
				void *model, sf_status (*body) (sf_env *env, const sf_container *c, void *model),
				void (*release) (sf_env *env, void *model))
{
	sf_container c;
	sf_status	st;

	if ((st = sf_container_decode_width(env, buf, len, kind, max_features, &c)) != SF_OK)
		return st;
	if ((st = body(env, &c, model)) != SF_OK)
		release(env, model);
	return st;
}
