/*
 * gbt_json.c
 *	  XGBoost 1.7 JSON model interop: export of a tree ensemble to the JSON
 *	  schema of XGBoost's doc/model.schema, and import of such text.
 *
 * Export writes the learner object XGBoost's Booster.load_model reads:
 * learner_model_param (base_score as a string, num_feature), objective,
 * gradient_booster {name "gbtree", model {gbtree_model_param, tree_info,
 * trees}}, each tree with its parallel node arrays.  Floats are printed with
 * 9 significant digits (exact for float32), so scores agree bit for bit.
 *
 * Import parses the text with a small JSON parser of its own (a node pool
 * through the env allocator, depth-limited, every read bounds-checked, so
 * it is total over arbitrary bytes and fuzzed by test/fuzz/fuzz_gbt_json.c),
 * accepts the gbtree booster with objectives binary:logistic and
 * reg:squarederror and numeric splits, and checks the trees with the same
 * invariants as the binary decoder.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbt_int.h"

/* ------------------------------------------------------------ export */

/*
 * A float32 as a JSON number that XGBoost's reader takes as a Number, not an
 * Integer, also after a round trip through jsonb (which keeps the decimal
 * scale of the text): a decimal point always, positional notation for large
 * magnitudes (exact for float32), and the float range's edge for infinities.
 */
static void
put_float(sf_buf *b, float v)
{
	char		t[80];
	int			n;

	if (isinf(v))
		v = v > 0 ? 3.40282347e+38f : -3.40282347e+38f;
	if (fabsf(v) >= 1e9f)
		n = snprintf(t, sizeof(t), "%.1f", (double) v);
	else
	{
		n = snprintf(t, sizeof(t), "%.9g", (double) v);
		if (!strpbrk(t, ".e"))
			n += snprintf(t + n, sizeof(t) - n, ".0");
	}
	sf_buf_put_bytes(b, t, (size_t) n);
}

static void
put_int(sf_buf *b, long v)
{
	char		t[32];
	int			n = snprintf(t, sizeof(t), "%ld", v);

	sf_buf_put_bytes(b, t, (size_t) n);
}

sf_status
gbt_to_xgb_json(sf_env *env, const gbt_model *m, const char *const *names, sf_buf *out)
{
	int32_t		i,
				k;
	uint32_t	j;
	char		t[160];

	sf_buf_put_str(out, "{\"learner\": {\"attributes\": {}, \"feature_names\": [");
	for (j = 0; names && j < m->n_features; j++)
	{
		if (j)
			sf_buf_put_str(out, ", ");
		sf_buf_put_json_string(out, names[j]);
	}
	sf_buf_put_str(out, "], \"feature_types\": [");
	for (j = 0; names && j < m->n_features; j++)
		sf_buf_put_str(out, j ? ", \"float\"" : "\"float\"");
	sf_buf_put_str(out, "], \"gradient_booster\": {\"model\": {\"gbtree_model_param\": {\"num_parallel_tree\": \"1\", \"num_trees\": \"");
	put_int(out, m->n_trees);
	sf_buf_put_str(out, "\", \"size_leaf_vector\": \"0\"}, \"tree_info\": [");
	for (i = 0; i < m->n_trees; i++)
		sf_buf_put_str(out, i ? ", 0" : "0");
	sf_buf_put_str(out, "], \"trees\": [");
	for (i = 0; i < m->n_trees; i++)
	{
		const gbt_tree *tr = &m->trees[i];
		int32_t    *parent = sf_malloc(env, sizeof(int32_t) * (size_t) tr->n_nodes);

		if (parent == NULL)
			return sf_fail(env, SF_ENOMEM, "out of memory writing the JSON model");
		for (k = 0; k < tr->n_nodes; k++)
			parent[k] = 2147483647;
		for (k = 0; k < tr->n_nodes; k++)
			if (tr->left[k] >= 0)
				parent[tr->left[k]] = parent[tr->right[k]] = k;
		sf_buf_put_str(out, i ? ", {" : "{");
#define PUT_ARRAY(name, expr) \
		do { \
			sf_buf_put_str(out, "\"" name "\": ["); \
			for (k = 0; k < tr->n_nodes; k++) \
			{ \
				if (k) \
					sf_buf_put_str(out, ", "); \
				expr; \
			} \
			sf_buf_put_str(out, "], "); \
		} while (0)
		PUT_ARRAY("base_weights", put_float(out, tr->base_weight[k]));
		sf_buf_put_str(out, "\"categories\": [], \"categories_nodes\": [], \"categories_segments\": [], \"categories_sizes\": [], ");
		PUT_ARRAY("default_left", put_int(out, tr->default_left[k]));
		sf_buf_put_str(out, "\"id\": ");
		put_int(out, i);
		sf_buf_put_str(out, ", ");
		PUT_ARRAY("left_children", put_int(out, tr->left[k]));
		PUT_ARRAY("loss_changes", put_float(out, tr->loss_chg[k]));
		PUT_ARRAY("parents", put_int(out, parent[k]));
		PUT_ARRAY("right_children", put_int(out, tr->right[k]));
		PUT_ARRAY("split_conditions", put_float(out, tr->split_cond[k]));
		PUT_ARRAY("split_indices", put_int(out, (long) tr->split_index[k]));
		PUT_ARRAY("split_type", put_int(out, 0));
		PUT_ARRAY("sum_hessian", put_float(out, tr->sum_hess[k]));
#undef PUT_ARRAY
		snprintf(t, sizeof(t), "\"tree_param\": {\"num_deleted\": \"0\", \"num_feature\": \"%u\", ",
				 (unsigned) m->n_features);
		sf_buf_put_str(out, t);
		snprintf(t, sizeof(t), "\"num_nodes\": \"%d\", \"size_leaf_vector\": \"0\"}}", (int) tr->n_nodes);
		sf_buf_put_str(out, t);
		sf_free(env, parent);
	}
	sf_buf_put_str(out, "]}, \"name\": \"gbtree\"}, \"learner_model_param\": {\"base_score\": \"");
	put_float(out, m->base_score);
	snprintf(t, sizeof(t), "\", \"boost_from_average\": \"1\", \"num_class\": \"0\", \"num_feature\": \"%u\", ",
			 (unsigned) m->n_features);
	sf_buf_put_str(out, t);
	sf_buf_put_str(out, "\"num_target\": \"1\"}, \"objective\": {\"name\": \"");
	sf_buf_put_str(out, m->objective == GBT_OBJ_BINARY ? "binary:logistic" : "reg:squarederror");
	sf_buf_put_str(out, "\", \"reg_loss_param\": {\"scale_pos_weight\": \"1\"}}}, \"version\": [1, 7, 4]}");
	return sf_buf_status(out);
}

/* ------------------------------------------------------------ parser */

typedef enum jtype
{
	J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ
} jtype;

/* One parsed value; children of arrays and objects are chained by next. */
typedef struct jnode
{
	jtype		type;
	double		num;			/* J_NUM, J_BOOL (0/1) */
	const char *str;			/* J_STR: raw text between the quotes (escapes kept) */
	size_t		len;
	const char *key;			/* member of an object: raw key text */
	size_t		klen;
	int32_t		first;			/* J_ARR, J_OBJ: first child or -1 */
	int32_t		next;			/* next sibling or -1 */
	int32_t		count;			/* J_ARR, J_OBJ: number of children */
} jnode;

#define JSON_MAX_DEPTH	64

typedef struct jparser
{
	sf_env	   *env;
	const char *p;
	const char *end;
	jnode	   *nodes;
	int32_t		n,
				cap;
	int			failed;			/* syntax error or out of memory */
	int			oom;
} jparser;

static void
skip_ws(jparser *js)
{
	while (js->p < js->end && (*js->p == ' ' || *js->p == '\t' || *js->p == '\n' || *js->p == '\r'))
		js->p++;
}

static int32_t
new_node(jparser *js, jtype t)
{
	jnode	   *n;

	if (js->n == js->cap)
	{
		int32_t		nc = js->cap ? js->cap * 2 : 256;
		jnode	   *nn;

		if (nc < js->cap || (size_t) nc > SIZE_MAX / sizeof(jnode))
		{
			js->failed = js->oom = 1;
			return -1;
		}
		nn = sf_malloc(js->env, sizeof(jnode) * (size_t) nc);
		if (nn == NULL)
		{
			js->failed = js->oom = 1;
			return -1;
		}
		if (js->n)
			memcpy(nn, js->nodes, sizeof(jnode) * (size_t) js->n);
		sf_free(js->env, js->nodes);
		js->nodes = nn;
		js->cap = nc;
	}
	n = &js->nodes[js->n];
	memset(n, 0, sizeof(*n));
	n->type = t;
	n->first = n->next = -1;
	return js->n++;
}

/* A string token: returns its raw text (without quotes), escapes checked. */
static int
parse_string(jparser *js, const char **s, size_t *len)
{
	const char *start;

	if (js->p >= js->end || *js->p != '"')
		return 0;
	start = ++js->p;
	while (js->p < js->end && *js->p != '"')
	{
		if ((unsigned char) *js->p < 0x20)
			return 0;
		if (*js->p == '\\')
		{
			js->p++;
			if (js->p >= js->end)
				return 0;
			if (*js->p == 'u')
			{
				int			i;

				for (i = 0; i < 4; i++)
				{
					js->p++;
					if (js->p >= js->end || !((*js->p >= '0' && *js->p <= '9') ||
											 (*js->p >= 'a' && *js->p <= 'f') ||
											 (*js->p >= 'A' && *js->p <= 'F')))
						return 0;
				}
			}
			else if (!strchr("\"\\/bfnrt", *js->p))
				return 0;
		}
		js->p++;
	}
	if (js->p >= js->end)
		return 0;
	*s = start;
	*len = (size_t) (js->p - start);
	js->p++;
	return 1;
}

static int32_t parse_value(jparser *js, int depth);

static int32_t
parse_container(jparser *js, int depth, int is_obj)
{
	int32_t		id = new_node(js, is_obj ? J_OBJ : J_ARR),
				last = -1;

	if (id < 0)
		return -1;
	js->p++;
	skip_ws(js);
	if (js->p < js->end && *js->p == (is_obj ? '}' : ']'))
	{
		js->p++;
		return id;
	}
	for (;;)
	{
		const char *key = NULL;
		size_t		klen = 0;
		int32_t		child;

		skip_ws(js);
		if (is_obj)
		{
			if (!parse_string(js, &key, &klen))
				return -1;
			skip_ws(js);
			if (js->p >= js->end || *js->p != ':')
				return -1;
			js->p++;
		}
		if ((child = parse_value(js, depth + 1)) < 0)
			return -1;
		js->nodes[child].key = key;
		js->nodes[child].klen = klen;
		if (last < 0)
			js->nodes[id].first = child;
		else
			js->nodes[last].next = child;
		last = child;
		js->nodes[id].count++;
		skip_ws(js);
		if (js->p < js->end && *js->p == ',')
		{
			js->p++;
			continue;
		}
		if (js->p < js->end && *js->p == (is_obj ? '}' : ']'))
		{
			js->p++;
			return id;
		}
		return -1;
	}
}

static int32_t
parse_value(jparser *js, int depth)
{
	int32_t		id;

	if (depth > JSON_MAX_DEPTH)
		return -1;
	skip_ws(js);
	if (js->p >= js->end)
		return -1;
	switch (*js->p)
	{
		case '{':
			return parse_container(js, depth, 1);
		case '[':
			return parse_container(js, depth, 0);
		case '"':
			{
				const char *s;
				size_t		len;

				if (!parse_string(js, &s, &len) || (id = new_node(js, J_STR)) < 0)
					return -1;
				js->nodes[id].str = s;
				js->nodes[id].len = len;
				return id;
			}
		case 't':
		case 'f':
		case 'n':
			{
				static const char *const words[] = {"true", "false", "null"};
				int			w;

				for (w = 0; w < 3; w++)
				{
					size_t		l = strlen(words[w]);

					if ((size_t) (js->end - js->p) >= l && memcmp(js->p, words[w], l) == 0)
					{
						js->p += l;
						if ((id = new_node(js, w == 2 ? J_NULL : J_BOOL)) < 0)
							return -1;
						js->nodes[id].num = w == 0;
						return id;
					}
				}
				return -1;
			}
		default:
			{
				char		buf[64];
				size_t		l = 0;
				char	   *endp;

				while (js->p + l < js->end && l < sizeof(buf) - 1 &&
					   strchr("0123456789+-.eE", js->p[l]) && js->p[l] != '\0')
				{
					buf[l] = js->p[l];
					l++;
				}
				if (l == 0 || l == sizeof(buf) - 1)
					return -1;
				buf[l] = '\0';
				if ((id = new_node(js, J_NUM)) < 0)
					return -1;
				js->nodes[id].num = strtod(buf, &endp);
				if (endp != buf + l)
					return -1;
				js->p += l;
				return id;
			}
	}
}

/* ------------------------------------------------------------ import */

/* Member of object o with the given key, or -1. */
static int32_t
member(const jparser *js, int32_t o, const char *key)
{
	int32_t		c;
	size_t		kl = strlen(key);

	if (o < 0 || js->nodes[o].type != J_OBJ)
		return -1;
	for (c = js->nodes[o].first; c >= 0; c = js->nodes[c].next)
		if (js->nodes[c].klen == kl && memcmp(js->nodes[c].key, key, kl) == 0)
			return c;
	return -1;
}

/* Path of members from o ("a", "b", NULL), or -1. */
static int32_t
path(const jparser *js, int32_t o, const char *const *keys)
{
	for (; *keys && o >= 0; keys++)
		o = member(js, o, *keys);
	return o;
}

/* A number, or a string holding one (XGBoost writes params as strings). */
static int
get_number(const jparser *js, int32_t v, double *out)
{
	if (v < 0)
		return 0;
	if (js->nodes[v].type == J_NUM || js->nodes[v].type == J_BOOL)
	{
		*out = js->nodes[v].num;
		return 1;
	}
	if (js->nodes[v].type == J_STR && js->nodes[v].len > 0 && js->nodes[v].len < 64)
	{
		char		buf[64];
		char	   *endp;

		memcpy(buf, js->nodes[v].str, js->nodes[v].len);
		buf[js->nodes[v].len] = '\0';
		*out = strtod(buf, &endp);
		return endp == buf + js->nodes[v].len;
	}
	return 0;
}

static int
str_is(const jparser *js, int32_t v, const char *s)
{
	return v >= 0 && js->nodes[v].type == J_STR && js->nodes[v].len == strlen(s) &&
		memcmp(js->nodes[v].str, s, js->nodes[v].len) == 0;
}


/* Array node a holding exactly n numbers, read as whole numbers in [lo, hi]. */
static int
read_ints(const jparser *js, int32_t a, int32_t n, int32_t *out, double lo, double hi)
{
	int32_t		c,
				i = 0;

	if (a < 0 || js->nodes[a].type != J_ARR || js->nodes[a].count != n)
		return 0;
	for (c = js->nodes[a].first; c >= 0; c = js->nodes[c].next, i++)
	{
		double		v;

		if (!get_number(js, c, &v) || v != floor(v) || v < lo || v > hi)
			return 0;
		out[i] = (int32_t) v;
	}
	return 1;
}

static int
read_floats(const jparser *js, int32_t a, int32_t n, float *out)
{
	int32_t		c,
				i = 0;

	if (a < 0)
	{
		memset(out, 0, sizeof(float) * (size_t) n);	/* optional statistics */
		return 1;
	}
	if (js->nodes[a].type != J_ARR || js->nodes[a].count != n)
		return 0;
	for (c = js->nodes[a].first; c >= 0; c = js->nodes[c].next, i++)
	{
		double		v;

		if (!get_number(js, c, &v) || isnan(v))
			return 0;
		out[i] = (float) v;
	}
	return 1;
}

/* Unescape a JSON string into a new NUL-terminated UTF-8 string, or NULL. */
static char *
unescape(sf_env *env, const char *s, size_t len)
{
	char	   *o = sf_malloc(env, len * 3 + 1);
	size_t		i,
				k = 0;

	if (o == NULL)
		return NULL;
	for (i = 0; i < len; i++)
	{
		unsigned	cp;

		if (s[i] != '\\')
		{
			o[k++] = s[i];
			continue;
		}
		i++;
		if (s[i] != 'u')
		{
			/* \b \f \n \r \t by the table; \" \\ \/ stand for themselves */
			static const char from[] = "bfnrt",
						to[] = "\b\f\n\r\t";
			const char *e = s[i] != '\0' ? strchr(from, s[i]) : NULL;

			o[k++] = e != NULL ? to[e - from] : s[i];
			continue;
		}
		/* \uXXXX (the parser checked the hex digits); surrogates are refused */
		cp = (unsigned) strtoul((char[5]) {s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0}, NULL, 16);
		i += 4;
		if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
		{
			sf_free(env, o);
			return NULL;
		}
		if (cp < 0x80)
			o[k++] = (char) cp;
		else if (cp < 0x800)
		{
			o[k++] = (char) (0xC0 | (cp >> 6));
			o[k++] = (char) (0x80 | (cp & 0x3F));
		}
		else
		{
			o[k++] = (char) (0xE0 | (cp >> 12));
			o[k++] = (char) (0x80 | ((cp >> 6) & 0x3F));
			o[k++] = (char) (0x80 | (cp & 0x3F));
		}
	}
	o[k] = '\0';
	return o;
}

static sf_status
unsupported(sf_env *env, const char *what)
{
	return sf_fail(env, SF_EDATA, "not a supported XGBoost JSON model: %s", what);
}

/*
 * The counts XGBoost writes beside the trees must agree with them: a JSON
 * whose gbtree_model_param.num_trees or tree_info says otherwise was edited
 * or truncated, and importing "the trees we happen to find" would score a
 * different model than the one its header describes (SF_EINVAL: 22023).
 */
static sf_status
check_tree_counts(sf_env *env, jparser *js, int32_t root, int32_t ta)
{
	static const char *const k_nt[] = {"learner", "gradient_booster", "model", "gbtree_model_param",
	"num_trees", NULL};
	static const char *const k_info[] = {"learner", "gradient_booster", "model", "tree_info", NULL};
	int32_t		nt = path(js, root, k_nt);
	int32_t		ti = path(js, root, k_info);
	double		v;

	if (nt >= 0 && (!get_number(js, nt, &v) || v != (double) js->nodes[ta].count))
		return sf_fail(env, SF_EINVAL,
					   "inconsistent XGBoost JSON model: gbtree_model_param.num_trees is not the %d trees given",
					   (int) js->nodes[ta].count);
	if (ti >= 0 && (js->nodes[ti].type != J_ARR || js->nodes[ti].count != js->nodes[ta].count))
		return sf_fail(env, SF_EINVAL,
					   "inconsistent XGBoost JSON model: tree_info does not list the %d trees given",
					   (int) js->nodes[ta].count);
	return SF_OK;
}

/* Import tree node c into t (allocated here); tmp and seen hold n entries. */
static sf_status
import_tree(jparser *js, int32_t c, int i, uint32_t n_features, gbt_tree *t,
			int32_t *tmp, uint8_t *seen)
{
	sf_env	   *env = js->env;
	int32_t		lc = member(js, c, "left_children");
	int32_t		st = member(js, c, "split_type");
	int32_t		n = js->nodes[lc].count,
				k;
	sf_status	s;

	if ((s = gbt_tree_alloc(env, t, n)) != SF_OK)
		return s;
	if (st >= 0)
	{
		if (!read_ints(js, st, n, tmp, 0, 1))
			return sf_fail(env, SF_ECORRUPT, "corrupted XGBoost JSON model: bad split_type in tree %d", i);
		for (k = 0; k < n; k++)
			if (tmp[k] != 0)
				return unsupported(env, "categorical splits are not supported");
	}
	if (!read_ints(js, lc, n, t->left, -1, n - 1) ||
		!read_ints(js, member(js, c, "right_children"), n, t->right, -1, n - 1) ||
		!read_ints(js, member(js, c, "split_indices"), n, tmp, 0, 2147483647.0))
		return sf_fail(env, SF_ECORRUPT,
					   "corrupted XGBoost JSON model: bad children or split_indices in tree %d", i);
	for (k = 0; k < n; k++)
		t->split_index[k] = (uint32_t) tmp[k];
	if (!read_ints(js, member(js, c, "default_left"), n, tmp, 0, 1))
		return sf_fail(env, SF_ECORRUPT, "corrupted XGBoost JSON model: bad default_left in tree %d", i);
	for (k = 0; k < n; k++)
		t->default_left[k] = (uint8_t) tmp[k];
	if (member(js, c, "split_conditions") < 0 ||
		!read_floats(js, member(js, c, "split_conditions"), n, t->split_cond) ||
		!read_floats(js, member(js, c, "base_weights"), n, t->base_weight) ||
		!read_floats(js, member(js, c, "loss_changes"), n, t->loss_chg) ||
		!read_floats(js, member(js, c, "sum_hessian"), n, t->sum_hess))
		return sf_fail(env, SF_ECORRUPT, "corrupted XGBoost JSON model: bad node values in tree %d", i);
	/* XGBoost keeps split index 0 on leaves; a leaf's index is not a feature */
	for (k = 0; k < n; k++)
		if (t->left[k] < 0)
		{
			if (t->right[k] >= 0)
				return sf_fail(env, SF_ECORRUPT, "corrupted XGBoost JSON model: half leaf in tree %d", i);
			t->split_index[k] = 0;
		}
	return gbt_tree_check(env, t, n_features, seen);
}

/* Import the trees of array node ta into m (n_features set). */
static sf_status
import_trees(jparser *js, int32_t ta, gbt_model *m)
{
	sf_env	   *env = js->env;
	int32_t		c,
				i = 0;

	m->trees = sf_calloc(env, js->nodes[ta].count ? (size_t) js->nodes[ta].count : 1, sizeof(gbt_tree));
	if (m->trees == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory importing a JSON model");
	for (c = js->nodes[ta].first; c >= 0; c = js->nodes[c].next, i++)
	{
		int32_t		lc = member(js, c, "left_children");
		int32_t		cats = member(js, c, "categories");
		int32_t		n;
		int32_t    *tmp;
		uint8_t    *seen;
		sf_status	s;

		if (lc < 0 || js->nodes[lc].type != J_ARR || js->nodes[lc].count < 1)
			return unsupported(env, "a tree has no left_children array");
		if (cats >= 0 && (js->nodes[cats].type != J_ARR || js->nodes[cats].count != 0))
			return unsupported(env, "categorical splits are not supported");
		n = js->nodes[lc].count;
		tmp = sf_malloc(env, sizeof(int32_t) * (size_t) n);
		seen = sf_malloc(env, (size_t) n);
		if (tmp == NULL || seen == NULL)
			s = sf_fail(env, SF_ENOMEM, "out of memory importing a JSON model");
		else
			s = import_tree(js, c, i, m->n_features, &m->trees[i], tmp, seen);
		m->n_trees = i + 1;		/* so gbt_model_free frees what was allocated */
		sf_free(env, tmp);
		sf_free(env, seen);
		if (s != SF_OK)
			return s;
	}
	return SF_OK;
}

sf_status
gbt_from_xgb_json(sf_env *env, const char *text, size_t len, gbt_model **out, sf_str_list *names)
{
	static const char *const k_obj[] = {"learner", "objective", "name", NULL};
	static const char *const k_booster[] = {"learner", "gradient_booster", "name", NULL};
	static const char *const k_trees[] = {"learner", "gradient_booster", "model", "trees", NULL};
	static const char *const k_nf[] = {"learner", "learner_model_param", "num_feature", NULL};
	static const char *const k_bs[] = {"learner", "learner_model_param", "base_score", NULL};
	static const char *const k_names[] = {"learner", "feature_names", NULL};
	jparser		js;
	int32_t		root,
				ta,
				c,
				fn;
	gbt_model  *m = NULL;
	double		nf = 0,
				bs = 0.5;
	sf_status	st = SF_OK;

	*out = NULL;
	names->n = 0;
	names->v = NULL;
	memset(&js, 0, sizeof(js));
	js.env = env;
	js.p = text;
	js.end = text + len;
	root = parse_value(&js, 0);
	skip_ws(&js);
	if (js.oom)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory parsing the JSON model");
		goto done;
	}
	if (root < 0 || js.p != js.end)
	{
		st = sf_fail(env, SF_EDATA, "the XGBoost model is not valid JSON");
		goto done;
	}
	if ((m = sf_calloc(env, 1, sizeof(gbt_model))) == NULL)
	{
		st = sf_fail(env, SF_ENOMEM, "out of memory importing a JSON model");
		goto done;
	}
	if (str_is(&js, path(&js, root, k_obj), "binary:logistic"))
		m->objective = GBT_OBJ_BINARY;
	else if (str_is(&js, path(&js, root, k_obj), "reg:squarederror"))
		m->objective = GBT_OBJ_REGRESSION;
	else
	{
		st = unsupported(env, "the objective must be binary:logistic or reg:squarederror");
		goto done;
	}
	if (!str_is(&js, path(&js, root, k_booster), "gbtree"))
	{
		st = unsupported(env, "the booster must be gbtree");
		goto done;
	}
	ta = path(&js, root, k_trees);
	if (ta < 0 || js.nodes[ta].type != J_ARR)
	{
		st = unsupported(env, "learner.gradient_booster.model.trees is missing");
		goto done;
	}
	if (!get_number(&js, path(&js, root, k_nf), &nf) || nf != floor(nf) || nf < 1 || nf > GBT_MAX_FEATURES)
	{
		st = unsupported(env, "learner_model_param.num_feature must be a whole number of features");
		goto done;
	}
	if (!get_number(&js, path(&js, root, k_bs), &bs) || !isfinite((float) bs) ||
		(m->objective == GBT_OBJ_BINARY && !((float) bs > 0.0f && (float) bs < 1.0f)))
	{
		st = unsupported(env, "learner_model_param.base_score is missing or out of range");
		goto done;
	}
	m->n_features = (uint32_t) nf;
	m->base_score = (float) bs;
	/* XGBoost 1.7's ProbToMargin, in float32 */
	m->base_margin = m->objective == GBT_OBJ_BINARY ? -logf(1.0f / m->base_score - 1.0f) : m->base_score;
	if (!isfinite(m->base_margin))
	{
		st = unsupported(env, "base_score has no finite margin");
		goto done;
	}
	m->eval_metric = m->objective == GBT_OBJ_BINARY ? GBT_METRIC_LOGLOSS : GBT_METRIC_RMSE;
	if ((st = check_tree_counts(env, &js, root, ta)) != SF_OK)
		goto done;
	if ((st = import_trees(&js, ta, m)) != SF_OK)
		goto done;
	m->best_iteration = m->n_trees - 1;
	if ((st = gbt_model_pack(env, m)) != SF_OK)
		goto done;

	fn = path(&js, root, k_names);
	if (fn >= 0 && js.nodes[fn].type == J_ARR && js.nodes[fn].count > 0)
	{
		int32_t		i = 0;

		if ((uint32_t) js.nodes[fn].count != m->n_features)
		{
			st = unsupported(env, "feature_names does not have num_feature names");
			goto done;
		}
		names->v = sf_calloc(env, m->n_features, sizeof(char *));
		if (names->v == NULL)
		{
			st = sf_fail(env, SF_ENOMEM, "out of memory importing a JSON model");
			goto done;
		}
		for (c = js.nodes[fn].first; c >= 0; c = js.nodes[c].next, i++)
		{
			if (js.nodes[c].type != J_STR ||
				(names->v[i] = unescape(env, js.nodes[c].str, js.nodes[c].len)) == NULL)
			{
				st = unsupported(env, "a feature name is not a string");
				goto done;
			}
			names->n = i + 1;
		}
	}
done:
	sf_free(env, js.nodes);
	if (st != SF_OK)
	{
		int			i;

		for (i = 0; i < names->n; i++)
			sf_free(env, names->v[i]);
		sf_free(env, names->v);
		names->n = 0;
		names->v = NULL;
		gbt_model_free(env, m);
		return st;
	}
	*out = m;
	return SF_OK;
}
