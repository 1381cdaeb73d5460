/*
 * gbt_codec.c
 *	  Model bytes of gradient-boosted trees: the body sections (usable by
 *	  other kinds that embed an ensemble), the whole kind-gbt container, and
 *	  the diagnostics JSON that model_info shows.
 *
 * Body sections, from a base tag (GBT_TAG_META for kind gbt), all
 * little-endian, documented in docs/format.md:
 *	  base + 0  meta: u8 objective, f32 base_score, f32 base_margin,
 *	            i32 n_trees, i32 best_iteration, u8 eval_metric, u64 train_rows
 *	  base + 1  trees: per tree i32 n_nodes, then the node arrays in order
 *	            i32 left, i32 right, u32 split_index, f32 split_cond,
 *	            u8 default_left, f32 base_weight, f32 loss_chg, f32 sum_hess
 *	  base + 2  eval log: i32 n_eval, u8 has_valid, f64 train[n_eval],
 *	            f64 valid[n_eval] when has_valid
 * The decoder is total: every count is checked against the bytes left before
 * allocating, and the trees must be proper binary trees (each child index
 * greater than its parent's, every node but the root with exactly one
 * parent), split features below n_features, leaf values, split conditions
 * and node statistics finite.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gbt_int.h"
#include "scfrisk/sf_codec.h"

#define GBT_NODE_BYTES	29		/* bytes per node in the trees section */

void
gbt_encode_body(const gbt_model *m, sf_buf *b, uint16_t tag_base)
{
	size_t		mark;
	int32_t		i,
				k;

	mark = sf_section_begin(b, tag_base);
	sf_buf_put_u8(b, (uint8_t) m->objective);
	sf_buf_put_f32(b, m->base_score);
	sf_buf_put_f32(b, m->base_margin);
	sf_buf_put_i32(b, m->n_trees);
	sf_buf_put_i32(b, m->best_iteration);
	sf_buf_put_u8(b, (uint8_t) m->eval_metric);
	sf_buf_put_u64(b, m->train_rows);
	sf_section_end(b, mark);

	mark = sf_section_begin(b, (uint16_t) (tag_base + 1));
	for (i = 0; i < m->n_trees; i++)
	{
		const gbt_tree *t = &m->trees[i];

		sf_buf_put_i32(b, t->n_nodes);
		sf_buf_put_i32s(b, t->left, (size_t) t->n_nodes);
		sf_buf_put_i32s(b, t->right, (size_t) t->n_nodes);
		for (k = 0; k < t->n_nodes; k++)
			sf_buf_put_u32(b, t->split_index[k]);
		sf_buf_put_f32s(b, t->split_cond, (size_t) t->n_nodes);
		sf_buf_put_bytes(b, t->default_left, (size_t) t->n_nodes);
		sf_buf_put_f32s(b, t->base_weight, (size_t) t->n_nodes);
		sf_buf_put_f32s(b, t->loss_chg, (size_t) t->n_nodes);
		sf_buf_put_f32s(b, t->sum_hess, (size_t) t->n_nodes);
	}
	sf_section_end(b, mark);

	mark = sf_section_begin(b, (uint16_t) (tag_base + 2));
	sf_buf_put_i32(b, m->n_eval);
	sf_buf_put_u8(b, m->eval_valid != NULL);
	sf_buf_put_f64s(b, m->eval_train, (size_t) m->n_eval);
	if (m->eval_valid)
		sf_buf_put_f64s(b, m->eval_valid, (size_t) m->n_eval);
	sf_section_end(b, mark);
}

static sf_status
corrupt(sf_env *env, const char *what)
{
	return sf_fail(env, SF_ECORRUPT, "corrupted gbt model: %s", what);
}

/* Check the structure of one decoded tree; seen is n_nodes bytes of scratch. */
sf_status
gbt_tree_check(sf_env *env, const gbt_tree *t, uint32_t n_features, uint8_t *seen)
{
	int32_t		k;

	memset(seen, 0, (size_t) t->n_nodes);
	for (k = 0; k < t->n_nodes; k++)
	{
		int32_t		l = t->left[k],
					r = t->right[k];

		if (t->default_left[k] > 1)
			return corrupt(env, "default_left is not 0 or 1");
		/* the statistics feed importance and selection: finite, as training
		 * writes them (an infinite gain would normalise to NaN) */
		if (!isfinite(t->base_weight[k]) || !isfinite(t->loss_chg[k]) || !isfinite(t->sum_hess[k]))
			return corrupt(env, "a node statistic is not finite");
		if (l == -1 && r == -1)
		{
			if (!isfinite(t->split_cond[k]))
				return corrupt(env, "a leaf value is not finite");
			continue;
		}
		if (l <= k || r <= k || l >= t->n_nodes || r >= t->n_nodes || l == r)
			return corrupt(env, "a child index is out of range");
		if (seen[l] || seen[r])
			return corrupt(env, "a node has two parents");
		seen[l] = seen[r] = 1;
		if (t->split_index[k] >= n_features)
			return corrupt(env, "a split feature is out of range");
		if (!isfinite(t->split_cond[k]))
			return corrupt(env, "a split condition is not finite");
	}
	return SF_OK;
}

sf_status
gbt_decode_body(sf_env *env, const sf_container *c, uint16_t tag_base, uint32_t n_features,
				gbt_model *m)
{
	const sf_section *sm = sf_container_find(c, tag_base);
	const sf_section *stt = sf_container_find(c, (uint16_t) (tag_base + 1));
	const sf_section *se = sf_container_find(c, (uint16_t) (tag_base + 2));
	sf_reader	r;
	int32_t		i,
				k;
	uint8_t		has_valid;
	sf_status	st;

	memset(m, 0, sizeof(*m));
	if (sm == NULL || stt == NULL || se == NULL)
		return corrupt(env, "a body section is missing");
	if (n_features < 1 || n_features > GBT_MAX_FEATURES)
		return corrupt(env, "the feature count is out of range");
	m->n_features = n_features;

	sf_reader_init(&r, sm->data, sm->len);
	m->objective = sf_read_u8(&r);
	m->base_score = sf_read_f32(&r);
	m->base_margin = sf_read_f32(&r);
	m->n_trees = sf_read_i32(&r);
	m->best_iteration = sf_read_i32(&r);
	m->eval_metric = sf_read_u8(&r);
	m->train_rows = sf_read_u64(&r);
	if (!sf_reader_ok(&r) || sf_reader_left(&r) != 0)
		return corrupt(env, "the meta section has the wrong length");
	if (m->objective != GBT_OBJ_BINARY && m->objective != GBT_OBJ_REGRESSION)
		return corrupt(env, "unknown objective");
	if (!isfinite(m->base_score) || !isfinite(m->base_margin))
		return corrupt(env, "the base score is not finite");
	if (m->eval_metric < GBT_METRIC_LOGLOSS || m->eval_metric > GBT_METRIC_RMSE)
		return corrupt(env, "unknown evaluation metric");
	if (m->n_trees < 0 || m->best_iteration < -1 ||
		m->best_iteration >= m->n_trees)
		return corrupt(env, "the tree count is out of range");

	sf_reader_init(&r, stt->data, stt->len);
	/* each tree needs at least 4 + GBT_NODE_BYTES bytes */
	if (!sf_reader_has(&r, (uint64_t) m->n_trees, 4 + GBT_NODE_BYTES))
		return corrupt(env, "the trees section is too short");
	{
		int32_t		n_trees = m->n_trees;

		m->n_trees = 0;
		m->trees = sf_calloc(env, n_trees ? (size_t) n_trees : 1, sizeof(gbt_tree));
		if (m->trees == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory decoding a gbt model");
		for (i = 0; i < n_trees; i++)
		{
			gbt_tree   *t = &m->trees[i];
			int32_t		nn = sf_read_i32(&r);
			uint8_t    *seen;

			if (!sf_reader_ok(&r) || nn < 1 || !sf_reader_has(&r, (uint64_t) nn, GBT_NODE_BYTES))
			{
				st = corrupt(env, "a tree's node count is out of range");
				goto fail;
			}
			if ((st = gbt_tree_alloc(env, t, nn)) != SF_OK)
				goto fail;
			m->n_trees = i + 1;
			sf_read_i32s(&r, t->left, (size_t) nn);
			sf_read_i32s(&r, t->right, (size_t) nn);
			for (k = 0; k < nn; k++)
				t->split_index[k] = sf_read_u32(&r);
			sf_read_f32s(&r, t->split_cond, (size_t) nn);
			{
				const uint8_t *dl = sf_read_bytes(&r, (size_t) nn);

				if (dl)
					memcpy(t->default_left, dl, (size_t) nn);
			}
			sf_read_f32s(&r, t->base_weight, (size_t) nn);
			sf_read_f32s(&r, t->loss_chg, (size_t) nn);
			sf_read_f32s(&r, t->sum_hess, (size_t) nn);
			if (!sf_reader_ok(&r))
			{
				st = corrupt(env, "the trees section is truncated");
				goto fail;
			}
			if ((seen = sf_malloc(env, (size_t) nn)) == NULL)
			{
				st = sf_fail(env, SF_ENOMEM, "out of memory decoding a gbt model");
				goto fail;
			}
			st = gbt_tree_check(env, t, n_features, seen);
			sf_free(env, seen);
			if (st != SF_OK)
				goto fail;
		}
		if (sf_reader_left(&r) != 0)
		{
			st = corrupt(env, "the trees section has trailing bytes");
			goto fail;
		}
	}

	sf_reader_init(&r, se->data, se->len);
	m->n_eval = sf_read_i32(&r);
	has_valid = sf_read_u8(&r);
	if (!sf_reader_ok(&r) || m->n_eval < 0 || has_valid > 1 ||
		!sf_reader_has(&r, (uint64_t) m->n_eval, has_valid ? 16 : 8))
	{
		st = corrupt(env, "the evaluation log is malformed");
		goto fail;
	}
	m->eval_train = sf_calloc(env, m->n_eval ? (size_t) m->n_eval : 1, sizeof(double));
	if (has_valid)
		m->eval_valid = sf_calloc(env, m->n_eval ? (size_t) m->n_eval : 1, sizeof(double));
	if (m->eval_train == NULL || (has_valid && m->eval_valid == NULL))
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory decoding a gbt model");
		goto fail;
	}
	sf_read_f64s(&r, m->eval_train, (size_t) m->n_eval);
	if (has_valid)
		sf_read_f64s(&r, m->eval_valid, (size_t) m->n_eval);
	if (!sf_reader_ok(&r) || sf_reader_left(&r) != 0)
	{
		st = corrupt(env, "the evaluation log has the wrong length");
		goto fail;
	}
	if ((st = gbt_model_pack(env, m)) != SF_OK)
		goto fail;
	return SF_OK;
fail:
	gbt_model_clear(env, m);
	return st;
}

/* ------------------------------------------------------------ info JSON */

static void
put_double(sf_buf *b, double v)
{
	char		t[40];
	int			n = isfinite(v) ? snprintf(t, sizeof(t), "%.10g", v) : snprintf(t, sizeof(t), "null");

	sf_buf_put_bytes(b, t, (size_t) n);
}

/* A JSON array of n doubles, each as put_double writes it. */
static void
put_doubles(sf_buf *b, const double *v, int32_t n)
{
	int32_t		i;

	sf_buf_put_str(b, "[");
	for (i = 0; i < n; i++)
	{
		if (i)
			sf_buf_put_str(b, ", ");
		put_double(b, v[i]);
	}
	sf_buf_put_str(b, "]");
}

void
gbt_info_json(const gbt_model *m, sf_buf *b)
{
	char		t[256];
	int64_t		nodes,
				leaves;

	gbt_trees_size(m->trees, m->n_trees, &nodes, &leaves);
	snprintf(t, sizeof(t),
			 "{\"objective\": \"%s\", \"n_trees\": %d, \"nodes\": %d, \"leaves\": %d, "
			 "\"best_iteration\": %d, \"rounds_run\": %d, \"eval_metric\": \"%s\", \"base_score\": ",
			 m->objective == GBT_OBJ_BINARY ? "binary:logistic" : "reg:squarederror",
			 (int) m->n_trees, (int) nodes, (int) leaves, (int) m->best_iteration,
			 (int) m->n_eval, gbt_metric_name(m->eval_metric));
	sf_buf_put_str(b, t);
	put_double(b, m->base_score);
	sf_buf_put_str(b, ", \"eval_log\": {\"train\": ");
	put_doubles(b, m->eval_train, m->n_eval);
	if (m->eval_valid)
	{
		sf_buf_put_str(b, ", \"valid\": ");
		put_doubles(b, m->eval_valid, m->n_eval);
	}
	sf_buf_put_str(b, "}}");
}

/* ------------------------------------------------------------ whole model */

sf_status
gbt_encode(sf_env *env, const gbt_model *m, const gbt_params *p, const char *const *names,
		   uint64_t rows, sf_buf *b)
{
	sf_prelude	pre = {.params_table = &gbt_params_table, .params = p, .names = names,
		.rows = rows, .has_seed = p != NULL, .seed = p ? (uint64_t) p->seed : 0, .described = m};

	sf_prelude_put(b, SF_KIND_GBT, m->n_features, &pre);
	gbt_encode_body(m, b, GBT_TAG_META);
	return sf_container_finish(b);
}

sf_status
gbt_decode(sf_env *env, const uint8_t *buf, size_t len, gbt_model **out)
{
	sf_container c;
	sf_status	st;
	gbt_model  *m;

	*out = NULL;
	if ((st = sf_container_decode_kind(env, buf, len, SF_KIND_GBT, &c)) != SF_OK)
		return st;
	if ((m = sf_calloc(env, 1, sizeof(gbt_model))) == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory decoding a gbt model");
	if ((st = gbt_decode_body(env, &c, GBT_TAG_META, c.n_features, m)) != SF_OK)
	{
		sf_free(env, m);
		return st;
	}
	*out = m;
	return SF_OK;
}
