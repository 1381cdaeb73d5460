/*
 * forest_codec.c
 *	  Model bytes of the cart and forest kinds (docs/format.md "cart and
 *	  forest"): the common sections, then
 *
 *	  tag 16 (meta):  u8 objective, u8 criterion, u32 n_trees
 *	  tag 17 (trees): per tree u32 n_nodes, then per node i32 left,
 *	                  i32 right, u32 feature, f32 threshold (leaf: value),
 *	                  u8 default_left, f32 value, f32 impurity decrease,
 *	                  f32 weight
 *
 * The decoder is total: every count is checked against the bytes left
 * before allocating, the trees' structure with gbt_tree_check, leaf values
 * of a binary model lie in [0, 1], and a cart model has one tree.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scfrisk/forest.h"
#include "scfrisk/sf_codec.h"
#include "gbt_int.h"
#include "scfrisk/gbt_fast.h"

#define NODE_BYTES	(4 + 4 + 4 + 4 + 1 + 4 + 4 + 4)

static const char *const crit_names[] = {"auto", "gini", "entropy", "squared_error"};

static void
put_text(sf_buf *b, const char *s)
{
	sf_buf_put_bytes(b, s, strlen(s));
}

void
forest_encode_body(const forest_model *m, sf_buf *b, uint16_t tag_base)
{
	size_t		mark;
	int32_t		i,
				k;

	mark = sf_section_begin(b, tag_base);
	sf_buf_put_u8(b, (uint8_t) m->objective);
	sf_buf_put_u8(b, (uint8_t) m->criterion);
	sf_buf_put_u32(b, (uint32_t) m->n_trees);
	sf_section_end(b, mark);
	mark = sf_section_begin(b, tag_base + 1);
	for (i = 0; i < m->n_trees; i++)
	{
		const gbt_tree *t = &m->trees[i];

		sf_buf_put_u32(b, (uint32_t) t->n_nodes);
		for (k = 0; k < t->n_nodes; k++)
		{
			sf_buf_put_i32(b, t->left[k]);
			sf_buf_put_i32(b, t->right[k]);
			sf_buf_put_u32(b, t->split_index[k]);
			sf_buf_put_f32(b, t->split_cond[k]);
			sf_buf_put_u8(b, t->default_left[k]);
			sf_buf_put_f32(b, t->base_weight[k]);
			sf_buf_put_f32(b, t->loss_chg[k]);
			sf_buf_put_f32(b, t->sum_hess[k]);
		}
	}
	sf_section_end(b, mark);
}

/* model_info: the objective, criterion and sizes of the trees, all read from the body. */
void
forest_body_json(const forest_model *m, sf_buf *b)
{
	char		t[256];
	int64_t		nodes,
				leaves;

	gbt_trees_size(m->trees, m->n_trees, &nodes, &leaves);
	snprintf(t, sizeof(t),
			 "{\"objective\": \"%s\", \"criterion\": \"%s\", \"n_trees\": %d, \"nodes\": %lld, "
			 "\"leaves\": %lld}",
			 m->objective == FOREST_OBJ_BINARY ? "binary" : "regression",
			 crit_names[m->criterion], (int) m->n_trees, (long long) nodes, (long long) leaves);
	put_text(b, t);
}

/* A number for JSON: null when not finite. */
static void
put_num(sf_buf *b, const char *key, double v)
{
	char		t[64];

	if (isfinite(v))
		snprintf(t, sizeof(t), ", \"%s\": %.17g", key, v);
	else
		snprintf(t, sizeof(t), ", \"%s\": null", key);
	put_text(b, t);
}

/*
 * The info section: the body's fields, then the out-of-bag scores of
 * training when it computed them (they live in no body field: model_info
 * holds the info section to the body on the keys both have, these only here).
 */
static void
info_json(const forest_model *m, sf_buf *b)
{
	sf_buf		body;
	char		t[64];

	if (m->oob_rows == 0)
	{
		forest_body_json(m, b);
		return;
	}
	sf_buf_init(&body, b->env);
	forest_body_json(m, &body);
	/* the body's object without its closing brace */
	sf_buf_put_bytes(b, body.data, body.len - 1);
	sf_buf_free(&body);
	snprintf(t, sizeof(t), ", \"oob_rows\": %llu", (unsigned long long) m->oob_rows);
	put_text(b, t);
	if (m->objective == FOREST_OBJ_BINARY)
	{
		put_num(b, "oob_auc", m->oob_auc);
		put_num(b, "oob_accuracy", m->oob_accuracy);
		put_num(b, "oob_logloss", m->oob_logloss);
	}
	else
		put_num(b, "oob_r2", m->oob_r2);
	put_text(b, "}");
}

sf_status
forest_encode(sf_env *env, const forest_model *m, const forest_params *p, const char *const *names,
			  sf_buf *b)
{
	size_t		mark;
	sf_prelude	pre = {.params_table = m->kind == SF_KIND_CART ? &cart_params_table : &forest_params_table,
		.params = p, .names = names, .rows = m->train_rows, .has_seed = p != NULL,
		.seed = p ? (uint64_t) p->seed : 0};

	sf_prelude_put(b, m->kind, m->n_features, &pre);
	mark = sf_section_begin(b, SF_TAG_INFO);
	info_json(m, b);
	sf_section_end(b, mark);
	forest_encode_body(m, b, FOREST_TAG_META);
	return sf_container_finish(b);
}

static sf_status
corrupt(sf_env *env, const char *what)
{
	return sf_fail(env, SF_ECORRUPT, "corrupted tree model: %s", what);
}

/* Read one tree and check it; t is zeroed on entry. */
static sf_status
read_tree(sf_env *env, sf_reader *r, const forest_model *m, gbt_tree *t)
{
	uint32_t	nn = sf_read_u32(r);
	int32_t		k;
	uint8_t    *seen;
	sf_status	st;

	if (!sf_reader_ok(r) || nn == 0 || nn > (uint32_t) INT32_MAX || !sf_reader_has(r, nn, NODE_BYTES))
		return corrupt(env, "a tree's node count does not match its bytes");
	if ((st = gbt_tree_alloc(env, t, (int32_t) nn)) != SF_OK)
		return st;
	for (k = 0; k < (int32_t) nn; k++)
	{
		t->left[k] = sf_read_i32(r);
		t->right[k] = sf_read_i32(r);
		t->split_index[k] = sf_read_u32(r);
		t->split_cond[k] = sf_read_f32(r);
		t->default_left[k] = sf_read_u8(r);
		t->base_weight[k] = sf_read_f32(r);
		t->loss_chg[k] = sf_read_f32(r);
		t->sum_hess[k] = sf_read_f32(r);
		if ((t->left[k] < 0) != (t->right[k] < 0))
			return corrupt(env, "a node has one child");
		if (t->left[k] < 0 && m->objective == FOREST_OBJ_BINARY &&
			!(t->split_cond[k] >= 0.0f && t->split_cond[k] <= 1.0f))
			return corrupt(env, "a leaf probability is outside [0, 1]");
		if (t->left[k] < 0 && (t->left[k] != -1 || t->right[k] != -1))
			return corrupt(env, "a leaf's children are not -1");
	}
	if ((seen = sf_malloc(env, nn)) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a tree model");
	st = gbt_tree_check(env, t, m->n_features, seen);
	sf_free(env, seen);
	return st;
}

static sf_status
decode_body(sf_env *env, const sf_container *c, uint16_t tag_base, forest_model *m)
{
	const sf_section *meta = sf_container_find(c, tag_base),
			   *trees = sf_container_find(c, tag_base + 1);
	sf_reader	r;
	uint32_t	nt;
	int32_t		i;
	sf_status	st;

	if (meta == NULL || trees == NULL)
		return corrupt(env, "a body section is missing");
	sf_reader_init(&r, meta->data, meta->len);
	m->objective = sf_read_u8(&r);
	m->criterion = sf_read_u8(&r);
	nt = sf_read_u32(&r);
	if (!sf_reader_ok(&r) || sf_reader_left(&r) != 0)
		return corrupt(env, "the meta section has the wrong length");
	if (m->objective > FOREST_OBJ_REGRESSION)
		return corrupt(env, "unknown objective");
	if (m->criterion < FOREST_CRIT_GINI || m->criterion > FOREST_CRIT_SQUARED ||
		(m->objective == FOREST_OBJ_BINARY) != (m->criterion != FOREST_CRIT_SQUARED))
		return corrupt(env, "the criterion does not fit the objective");
	if (nt == 0 || nt > FOREST_MAX_TREES || (m->kind == SF_KIND_CART && nt != 1))
		return corrupt(env, "tree count out of range");
	sf_reader_init(&r, trees->data, trees->len);
	if (!sf_reader_has(&r, nt, 4 + NODE_BYTES))
		return corrupt(env, "the trees section is shorter than its tree count");
	if ((m->trees = sf_calloc(env, nt, sizeof(gbt_tree))) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a tree model");
	m->n_trees = (int32_t) nt;
	for (i = 0; i < m->n_trees; i++)
		if ((st = read_tree(env, &r, m, &m->trees[i])) != SF_OK)
			return st;
	if (!sf_reader_ok(&r) || sf_reader_left(&r) != 0)
		return corrupt(env, "the trees section has trailing bytes");
	return SF_OK;
}

sf_status
forest_decode_body(sf_env *env, const sf_container *c, uint16_t tag_base, forest_model *m)
{
	sf_status	st;

	/* the padded scorer when the trees suit it (shallow forests; deep ones keep the walk) */
	if ((st = decode_body(env, c, tag_base, m)) != SF_OK)
		return st;
	return gbt_fast_build(env, m->trees, m->n_trees, m->n_features, 0, &m->fast);
}

sf_status
forest_decode(sf_env *env, uint16_t kind, const uint8_t *buf, size_t len, forest_model **out)
{
	sf_container c;
	sf_status	st;
	forest_model *m;

	*out = NULL;
	if ((st = sf_container_decode_kind(env, buf, len, kind, &c)) != SF_OK)
		return st;
	if (c.n_features == 0 || c.n_features > FOREST_MAX_FEATURES)
		return corrupt(env, "input width out of range");
	if ((m = sf_calloc(env, 1, sizeof(forest_model))) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a tree model");
	m->kind = kind;
	m->n_features = c.n_features;
	(void) sf_prelude_get(env, &c, "tree", &m->train_rows, NULL, NULL, NULL);
	if ((st = forest_decode_body(env, &c, FOREST_TAG_META, m)) != SF_OK)
	{
		forest_model_free(env, m);
		return st;
	}
	*out = m;
	return SF_OK;
}
