/*
 * rowstore_order.c
 *	  The pure part of the training aggregates' row store (no PostgreSQL
 *	  headers): the check of serialised states, the canonical row order and
 *	  widening.  See include/scfrisk/sf_rowstore.h.
 *
 * The hash is the one the tree and MLP aggregates used before they shared
 * this store (elements' bits, then the label, then the weight, each xor-ed
 * into a splitmix64 state), so models trained with it keep their bytes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_pool.h"
#include "scfrisk/sf_rowstore.h"
#include "scfrisk/sf_rng.h"

uint64_t
sf_rows_hash(sf_rows_elem elem, const void *x_row, uint32_t n_cols, double y, const double *w)
{
	uint64_t	h = 0x9E3779B97F4A7C15ULL;
	uint64_t	b;
	uint32_t	j;

	if (elem == SF_ROWS_FLOAT4)
	{
		const uint32_t *xb = x_row;

		for (j = 0; j < n_cols; j++)
		{
			h ^= xb[j];
			h = sf_splitmix64(&h);
		}
	}
	else
	{
		const double *xd = x_row;

		for (j = 0; j < n_cols; j++)
		{
			memcpy(&b, &xd[j], sizeof(b));
			h ^= b;
			h = sf_splitmix64(&h);
		}
	}
	memcpy(&b, &y, sizeof(b));
	h ^= b;
	h = sf_splitmix64(&h);
	if (w != NULL)
	{
		memcpy(&b, w, sizeof(b));
		h ^= b;
		h = sf_splitmix64(&h);
	}
	return h;
}

/* Sort key: the row's hash and its index. */
typedef struct rows_key
{
	uint64_t	hash;
	size_t		row;
} rows_key;

/*
 * The rows being sorted: qsort passes no context, and the backend sorts one
 * store at a time on one thread (cores never sort from worker threads).
 */
typedef struct rows_sort_ctx
{
	const unsigned char *x;
	const double *y;
	const double *w;
	size_t		row_bytes;
} rows_sort_ctx;

static const rows_sort_ctx *sort_ctx;

static int
cmp_rows_key(const void *pa, const void *pb)
{
	const rows_key *a = pa,
			   *b = pb;
	const rows_sort_ctx *c = sort_ctx;
	int			r;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	/* equal hashes: the bytes decide, so the order is total on contents */
	r = memcmp(c->x + a->row * c->row_bytes, c->x + b->row * c->row_bytes, c->row_bytes);
	if (r == 0)
		r = memcmp(&c->y[a->row], &c->y[b->row], sizeof(double));
	if (r == 0 && c->w != NULL)
		r = memcmp(&c->w[a->row], &c->w[b->row], sizeof(double));
	return r;
}

#define HASH_DIGIT_BITS 11		/* 6 passes of 11 bits cover the 64-bit hash */
#define HASH_PASSES 6

/*
 * Stable LSD radix sort of keys by hash (tmp: n keys of scratch): linear
 * time, where qsort with a comparison function was most of the canonical
 * order of a million rows.  The sorted keys end in *keys.
 */
static int
radix_sort_keys(sf_env *env, rows_key **keys, rows_key **tmp, size_t n)
{
	int			pass;

	for (pass = 0; pass < HASH_PASSES; pass++)
	{
		size_t		cnt[1 << HASH_DIGIT_BITS],
					i,
					sum = 0;
		int			shift = pass * HASH_DIGIT_BITS;
		rows_key   *src = *keys,
				   *dst = *tmp;

		if (sf_interrupted(env))
			return 0;
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(src[i].hash >> shift) & ((1 << HASH_DIGIT_BITS) - 1)]++;
		for (i = 0; i < (1 << HASH_DIGIT_BITS); i++)
		{
			size_t		c = cnt[i];

			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[(src[i].hash >> shift) & ((1 << HASH_DIGIT_BITS) - 1)]++] = src[i];
		*keys = dst;
		*tmp = src;
	}
	return 1;
}

/* The rows' hashes, in blocks of HASH_BLOCK rows on the cores' pool. */
typedef struct hash_ctx
{
	sf_rows_elem elem;
	const unsigned char *x;
	const double *y;
	const double *w;
	size_t		n,
				row_bytes,
				row0;			/* first row of the region */
	uint32_t	n_cols;
	rows_key   *keys;
} hash_ctx;

#define HASH_BLOCK 16384
#define HASH_REGION 16			/* blocks per region: a cancel is seen between regions */

static sf_status
hash_task(void *arg, int t, int worker, sf_env *env)
{
	const hash_ctx *c = arg;
	size_t		i0 = c->row0 + (size_t) t * HASH_BLOCK,
				i1 = i0 + HASH_BLOCK < c->n ? i0 + HASH_BLOCK : c->n,
				i;

	for (i = i0; i < i1; i++)
	{
		c->keys[i].hash = sf_rows_hash(c->elem, c->x + i * c->row_bytes, c->n_cols, c->y[i],
									   c->w ? &c->w[i] : NULL);
		c->keys[i].row = i;
	}
	return SF_OK;
}

/*
 * Every row's key: each hash depends on its row alone, so the pool's threads
 * (env->threads) give the same keys as one.  Anything but SF_OK leaves keys
 * partly unset, so the caller must not sort them.
 */
static sf_status
hash_rows(sf_env *env, hash_ctx *c)
{
	for (c->row0 = 0; c->row0 < c->n; c->row0 += (size_t) HASH_BLOCK * HASH_REGION)
	{
		size_t		left = c->n - c->row0,
					blocks = (left + HASH_BLOCK - 1) / HASH_BLOCK;
		sf_status	st;

		if (sf_interrupted(env))
			return sf_fail(env, SF_ECANCEL, "canceled while sorting the training rows");
		st = sf_pool_run(env, SF_POOL_SHORT, (int) (blocks < HASH_REGION ? blocks : HASH_REGION),
						 hash_task, c, NULL);
		if (st != SF_OK)
			return st;
	}
	return SF_OK;
}

sf_status
sf_rows_canonical_order(sf_env *env, sf_rows_elem elem, const void *x, const double *y,
						const double *w, size_t n, uint32_t n_cols, size_t *perm)
{
	rows_key   *keys,
			   *tmp,
			   *sorted;
	rows_sort_ctx ctx;
	hash_ctx	hc;
	size_t		row_bytes = (size_t) elem * n_cols;
	size_t		i,
				k;
	sf_status	st;

	if (n == 0)
		return SF_OK;
	keys = sf_calloc(env, n, sizeof(rows_key));
	tmp = sf_calloc(env, n, sizeof(rows_key));
	if (keys == NULL || tmp == NULL)
	{
		sf_free(env, keys);
		sf_free(env, tmp);
		return sf_fail(env, SF_ENOMEM, "out of memory sorting %zu training rows", n);
	}
	hc.elem = elem;
	hc.x = x;
	hc.y = y;
	hc.w = w;
	hc.n = n;
	hc.row_bytes = row_bytes;
	hc.n_cols = n_cols;
	hc.keys = keys;
	if ((st = hash_rows(env, &hc)) != SF_OK)
	{
		sf_free_all(env, keys, tmp);
		return st;
	}
	/* by hash; the pointers trade places each pass, so free by the originals */
	sorted = keys;
	{
		rows_key   *scratch = tmp;

		if (!radix_sort_keys(env, &sorted, &scratch, n))
		{
			sf_free(env, keys);
			sf_free(env, tmp);
			return sf_fail(env, SF_ECANCEL, "canceled while sorting the training rows");
		}
	}
	/* equal hashes (rare): the bytes decide, as cmp_rows_key orders them */
	ctx.x = x;
	ctx.y = y;
	ctx.w = w;
	ctx.row_bytes = row_bytes;
	sort_ctx = &ctx;
	for (i = 0; i < n; i = k)
	{
		for (k = i + 1; k < n && sorted[k].hash == sorted[i].hash; k++)
			;
		if (k - i > 1)
			qsort(sorted + i, k - i, sizeof(rows_key), cmp_rows_key);
	}
	sort_ctx = NULL;
	for (i = 0; i < n; i++)
		perm[i] = sorted[i].row;
	sf_free(env, keys);
	sf_free(env, tmp);
	return SF_OK;
}

void
sf_rows_widen(sf_rows_elem elem, const void *x, size_t n, uint32_t n_cols, uint32_t n_cat,
			  const size_t *perm, double *out)
{
	uint32_t	n_num = n_cols - n_cat;
	size_t		i;
	uint32_t	j;

	for (i = 0; i < n; i++)
	{
		size_t		src = perm ? perm[i] : i;
		double	   *dst = out + i * n_cols;

		if (elem == SF_ROWS_FLOAT8)
		{
			memcpy(dst, (const double *) x + src * n_cols, sizeof(double) * n_cols);
			continue;
		}
		{
			const float *row = (const float *) x + src * n_cols;

			for (j = 0; j < n_num; j++)
				dst[j] = row[j];
			for (j = n_num; j < n_cols; j++)
			{
				int32_t		id;

				memcpy(&id, &row[j], sizeof(id));
				dst[j] = id;
			}
		}
	}
}

/* Element j of row i of a serialised x as a double (ids: their integer value). */
static double
state_elem(const sf_rows_state *st, size_t i, uint32_t j, int is_id)
{
	size_t		off = (i * (size_t) st->h.n_cols + j) * st->h.elem;

	if (st->h.elem == SF_ROWS_FLOAT8)
	{
		double		v;

		memcpy(&v, st->x + off, sizeof(v));
		return v;
	}
	if (is_id)
	{
		int32_t		id;

		memcpy(&id, st->x + off, sizeof(id));
		return id;
	}
	{
		float		v;

		memcpy(&v, st->x + off, sizeof(v));
		return v;
	}
}

sf_status
sf_rows_state_parse(sf_env *env, const uint8_t *buf, size_t len,
					const sf_rows_kind *const *kinds, int n_kinds, sf_rows_state *out)
{
	sf_rows_header h;
	const sf_rows_kind *kind = NULL;
	size_t		row_bytes,
				n,
				i;
	uint32_t	j,
				n_num;
	int			k;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(h))
		return sf_fail(env, SF_ECORRUPT, "the state is shorter than its header");
	memcpy(&h, buf, sizeof(h));
	buf += sizeof(h);
	len -= sizeof(h);
	if (h.magic != SF_ROWS_MAGIC || h.reserved != 0 || h.reserved2 != 0)
		return sf_fail(env, SF_ECORRUPT, "the state does not start with the row store's header");
	for (k = 0; k < n_kinds; k++)
		if (kinds[k]->id == h.kind_id)
			kind = kinds[k];
	if (kind == NULL || h.elem != kind->elem || h.weighted != kind->weighted)
		return sf_fail(env, SF_ECORRUPT, "the state was written by another aggregate");
	if (h.n_cols < 0 || h.n_cols > kind->max_cols || h.n_cat < 0 || h.n_cat > h.n_cols ||
		h.n_rows < 0 || (h.n_rows > 0 && h.n_cols == 0))
		return sf_fail(env, SF_ECORRUPT, "the state has impossible row or column counts");
	if (h.params_len < 0 || (size_t) h.params_len > len ||
		(h.params_len > 0 && memchr(buf, 0, (size_t) h.params_len) != buf + h.params_len - 1))
		return sf_fail(env, SF_ECORRUPT, "the params of the state are truncated");
	out->params = h.params_len > 0 ? (const char *) buf : NULL;
	buf += h.params_len;
	len -= (size_t) h.params_len;
	row_bytes = (size_t) h.elem * (size_t) h.n_cols + sizeof(double) * (h.weighted ? 2 : 1);
	n = (size_t) h.n_rows;
	if ((uint64_t) h.n_rows > (uint64_t) (len / row_bytes) || n * row_bytes != len)
		return sf_fail(env, SF_ECORRUPT, "the state's length does not match its row count");
	out->h = h;
	out->kind = kind;
	out->x = buf;
	out->y = buf + n * (size_t) h.elem * (size_t) h.n_cols;
	out->w = h.weighted ? out->y + n * sizeof(double) : NULL;

	/* the values the transition functions would have accepted, nothing else */
	n_num = (uint32_t) (h.n_cols - h.n_cat);
	for (i = 0; i < n; i++)
	{
		double		y,
					w;

		if ((i & 65535) == 0 && sf_interrupted(env))
			return sf_fail(env, SF_ECANCEL, "canceled while reading a partial training state");
		memcpy(&y, out->y + i * sizeof(double), sizeof(y));
		if (!isfinite(y))
			return sf_fail(env, SF_ECORRUPT, "label %zu of the state is not finite", i + 1);
		if (out->w)
		{
			memcpy(&w, out->w + i * sizeof(double), sizeof(w));
			if (!(isfinite(w) && w >= 0.0))
				return sf_fail(env, SF_ECORRUPT, "weight %zu of the state is not finite and >= 0", i + 1);
		}
		for (j = 0; j < (uint32_t) h.n_cols; j++)
		{
			double		v = state_elem(out, i, j, j >= n_num);

			if (j < n_num ? (isinf(v) || (isnan(v) && !kind->missing_ok))
				: !(v >= 0.0 && v <= 2147483647.0 && v == floor(v)))
				return sf_fail(env, SF_ECORRUPT, "element %u of row %zu of the state is not a value the aggregate stores",
							   j + 1, i + 1);
		}
	}
	return SF_OK;
}
