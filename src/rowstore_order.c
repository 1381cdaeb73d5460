/*
 * rowstore_order.c
 *	  Canonical row order and widening of the training aggregates' row store
 *	  (pure C, no PostgreSQL headers).  See include/scfrisk/sf_rowstore.h.
 *
 * The hash is the one the tree and MLP aggregates used before they shared
 * this store (elements' bits, then the label, then the weight, each xor-ed
 * into a splitmix64 state), so models trained with it keep their bytes.
 */
#include <stdlib.h>
#include <string.h>

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

sf_status
sf_rows_canonical_order(sf_env *env, sf_rows_elem elem, const void *x, const double *y,
						const double *w, size_t n, uint32_t n_cols, size_t *perm)
{
	rows_key   *keys;
	rows_sort_ctx ctx;
	size_t		row_bytes = (size_t) elem * n_cols;
	size_t		i;

	if (n == 0)
		return SF_OK;
	keys = sf_calloc(env, n, sizeof(rows_key));
	if (keys == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory sorting %zu training rows", n);
	for (i = 0; i < n; i++)
	{
		if ((i & 65535) == 0 && sf_interrupted(env))
		{
			sf_free(env, keys);
			return sf_fail(env, SF_ECANCEL, "canceled while sorting the training rows");
		}
		keys[i].hash = sf_rows_hash(elem, (const unsigned char *) x + i * row_bytes, n_cols, y[i],
									w ? &w[i] : NULL);
		keys[i].row = i;
	}
	ctx.x = x;
	ctx.y = y;
	ctx.w = w;
	ctx.row_bytes = row_bytes;
	sort_ctx = &ctx;
	qsort(keys, n, sizeof(rows_key), cmp_rows_key);
	sort_ctx = NULL;
	for (i = 0; i < n; i++)
		perm[i] = keys[i].row;
	sf_free(env, keys);
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
