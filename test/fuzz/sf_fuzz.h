/*
 * sf_fuzz.h
 *	  Shared by the model-decoder fuzz targets.
 *
 * sf_fuzz_model_copy returns a malloc'd copy of the fuzzer's input whose
 * container header has its payload length and CRC-32C recomputed, so that
 * mutations reach the kind's body decoder instead of stopping at the
 * checksum (fuzz_container covers the header checks themselves).
 * sf_fuzz_check_curve holds the curve of any QRGMM kind to its invariants.
 * sf_fuzz_kind_scores is the skeleton every decoder target shares: decode
 * through the one table of kinds and hold the result to "a decoded model
 * scores finite inputs to finite outputs, or was refused".  Two whole
 * targets are macros, so kinds alike share one body:
 * SF_FUZZ_CANONICAL_TARGET (decode, score, re-encode to a fixed point) and
 * SF_FUZZ_SCORE_TARGET (decode, score zeros and NaN, the table path).
 */
#ifndef SCFRISK_SF_FUZZ_H
#define SCFRISK_SF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <float.h>
#include <math.h>

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_kinds.h"
#include "scfrisk/sf_qcurve.h"

static inline uint8_t *
sf_fuzz_model_copy(const uint8_t *data, size_t size)
{
	uint8_t    *buf = malloc(size ? size : 1);

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	if (size >= SF_HEADER_LEN)
	{
		uint64_t	plen = size - SF_HEADER_LEN;
		uint32_t	crc = SF_CRC32C_FINAL(sf_crc32c(SF_CRC32C_INIT, buf + SF_HEADER_LEN, plen));
		int			i;

		for (i = 0; i < 8; i++)
			buf[16 + i] = (uint8_t) (plen >> (8 * i));
		for (i = 0; i < 4; i++)
			buf[24 + i] = (uint8_t) (crc >> (8 * i));
	}
	return buf;
}

/*
 * The invariants every QRGMM-kind curve must keep whatever the model bytes:
 * built (st SF_OK) it has sorted knots and finite functionals in range, and
 * is freed here; otherwise it was refused with SF_EDATA (an overflowing
 * log1p curve) or SF_ENOMEM.  Aborts on a violation.
 */
static inline void
sf_fuzz_check_curve(sf_env *env, sf_status st, sf_qcurve *c)
{
	if (st == SF_OK)
	{
		double		F;
		double		q = sf_qcurve_quantile(c, 0.3);
		double		I = sf_qcurve_partial(c, q, &F);
		int			i;

		if (isnan(q) || isnan(F) || F < 0.0 || F > 1.0 || isnan(I))
			abort();
		for (i = 0; i < c->m; i++)
			if (c->qa[i] > c->qa[i + 1])
				abort();
		sf_qcurve_free(env, c);
	}
	else if (st != SF_EDATA && st != SF_ENOMEM)
		abort();
}

/*
 * An arena behind an sf_env: every block the decoder allocates is linked, so
 * the model of any kind is released at once (the table of kinds has no free
 * function) and a leak of a failed decode still shows up nowhere else.
 */
typedef struct sf_fuzz_block
{
	struct sf_fuzz_block *prev,
			   *next;
} sf_fuzz_block;

/* the link sits in a max_align_t header, so blocks stay aligned for any type */
_Static_assert(sizeof(sf_fuzz_block) <= sizeof(max_align_t), "sf_fuzz_block fits its header");

static void *
sf_fuzz_arena_alloc(void *ctx, size_t size)
{
	sf_fuzz_block *head = ctx;
	sf_fuzz_block *b;

	if (size > SIZE_MAX - sizeof(max_align_t))
		return NULL;
	b = malloc(sizeof(max_align_t) + size);
	if (b == NULL)
		return NULL;
	b->prev = head;
	b->next = head->next;
	if (head->next)
		head->next->prev = b;
	head->next = b;
	return (char *) b + sizeof(max_align_t);
}

static void
sf_fuzz_arena_free(void *ctx, void *ptr)
{
	sf_fuzz_block *b;

	(void) ctx;
	if (ptr == NULL)
		return;
	b = (sf_fuzz_block *) ((char *) ptr - sizeof(max_align_t));
	b->prev->next = b->next;
	if (b->next)
		b->next->prev = b->prev;
	free(b);
}

static void
sf_fuzz_arena_release(sf_fuzz_block *head)
{
	while (head->next)
		sf_fuzz_arena_free(head, (char *) head->next + sizeof(max_align_t));
}

/*
 * Finite inputs the scorers are held to: ordinary values, values far outside
 * any training data, and the ends of the domain (the float32 range for
 * network kinds, whose SQL scorers refuse beyond it; any double otherwise).
 */
static inline double
sf_fuzz_input(const sf_kind *k, uint8_t pick, uint32_t j)
{
	static const double vals[] = {0.0, 1.0, -1.0, 0.5, 3.0, -1e3, 1e6, 1e-30, 7.0, 2.0};
	double		big = k->float32_inputs ? FLT_MAX : DBL_MAX;

	switch (pick % 6)
	{
		case 0:
			return vals[j % 10];
		case 1:
			return (j & 1) ? big : -big;
		case 2:
			return (j & 1) ? 1e30 : -1e30;
		case 3:
			return k->accepts_missing && (j % 3 == 0) ? NAN : (double) j;
		case 4:
			return big;
		default:
			return -big;
	}
}

/*
 * Decode buf through the table entry of tag.  Refused: the decoder said why
 * (a message).  Decoded: every row of inputs above scores to a finite value
 * (not held to [0, 1]: regression kinds share the scorers) or, for curve
 * kinds, gives a curve that keeps its invariants or a refusal of that row
 * (SF_EDATA: an id that is not an integer, an overflowing curve).  Aborts
 * otherwise.
 */
static inline void
sf_fuzz_kind_scores(uint16_t tag, const uint8_t *buf, size_t size)
{
	const sf_kind *k = sf_kind_find(tag);
	sf_fuzz_block head = {NULL, NULL};
	sf_env		env;
	void	   *model = NULL;
	uint32_t	n,
				j;
	double	   *x;
	int			r;

	if (k == NULL)
		abort();
	sf_env_init_malloc(&env);
	env.alloc.alloc = sf_fuzz_arena_alloc;
	env.alloc.free = sf_fuzz_arena_free;
	env.alloc.ctx = &head;
	if (k->decode(&env, buf, size, &model) != SF_OK)
	{
		if (env.msg == NULL)
			abort();
		sf_fuzz_arena_release(&head);
		return;
	}
	n = k->n_features(model);
	x = calloc(n ? n : 1, sizeof(double));
	for (r = 0; r < 6; r++)
	{
		for (j = 0; j < n; j++)
			x[j] = sf_fuzz_input(k, (uint8_t) r, j);
		if (k->predict)
		{
			double		out = k->predict(model, x);

			if (!isfinite(out))
				abort();
		}
		else
		{
			sf_qcurve	c;
			sf_status	st;

			memset(&c, 0, sizeof(c));
			st = k->curve(&env, model, x, &c);
			sf_fuzz_check_curve(&env, st, &c);
		}
	}
	free(x);
	sf_fuzz_arena_release(&head);
}

/*
 * The whole target of a kind whose codec fills a model struct by value and
 * re-encodes without params (gaussian_nb, linear_svm, knn): any input
 * decodes or is refused with a message; a decoded model scores a row of
 * zeros with p = <prefix>_predict(&m, x) such that score_ok holds (an
 * expression over m, x and p), re-encodes, and the re-encoded bytes decode
 * and re-encode to themselves (the canonical form).
 */
#define SF_FUZZ_CANONICAL_TARGET(model_t, prefix, score_ok) \
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
int \
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
{ \
	sf_env		env; \
	model_t		m, \
				m2; \
	uint8_t    *buf = sf_fuzz_model_copy(data, size); \
 \
	sf_env_init_malloc(&env); \
	if (prefix##_decode(&env, buf, size, &m) != SF_OK) \
	{ \
		if (env.msg == NULL) \
			abort(); \
	} \
	else \
	{ \
		double	   *x = calloc(m.n_features, sizeof(double)); \
		double		p = prefix##_predict(&m, x); \
		sf_buf		b1, \
					b2; \
 \
		if (!(score_ok)) \
			abort(); \
		sf_buf_init(&b1, &env); \
		if (prefix##_encode(&env, &m, NULL, NULL, &b1) != SF_OK) \
			abort(); \
		if (prefix##_decode(&env, b1.data, b1.len, &m2) != SF_OK) \
			abort(); \
		sf_buf_init(&b2, &env); \
		if (prefix##_encode(&env, &m2, NULL, NULL, &b2) != SF_OK || \
			b2.len != b1.len || memcmp(b1.data, b2.data, b1.len) != 0) \
			abort(); \
		sf_buf_free(&b1); \
		sf_buf_free(&b2); \
		prefix##_free(&env, &m2); \
		prefix##_free(&env, &m); \
		free(x); \
	} \
	free(buf); \
	return 0; \
} \
extern int	sf_fuzz_no_such_variable

/*
 * The whole target of a network or linear kind decoded into a struct by
 * value (mlp, logreg): any input decodes or is refused with a message; a
 * decoded model scores a row of zeros and one with a NaN first feature
 * without crashing, then the table path every SQL scorer takes holds
 * (sf_fuzz_kind_scores: finite in, finite out).
 */
#define SF_FUZZ_SCORE_TARGET(model_t, prefix, kind) \
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
int \
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
{ \
	sf_env		env; \
	model_t		m; \
	uint8_t    *buf = sf_fuzz_model_copy(data, size); \
 \
	sf_env_init_malloc(&env); \
	if (prefix##_decode(&env, buf, size, &m) != SF_OK) \
	{ \
		if (env.msg == NULL) \
			abort(); \
	} \
	else \
	{ \
		double	   *x = calloc(m.n_features, sizeof(double)); \
 \
		(void) prefix##_predict(&m, x); \
		if (m.n_features > 0) \
			x[0] = NAN; \
		(void) prefix##_predict(&m, x); \
		free(x); \
		prefix##_free(&env, &m); \
	} \
	sf_fuzz_kind_scores((kind), buf, size); \
	free(buf); \
	return 0; \
} \
extern int	sf_fuzz_no_such_variable

#endif							/* SCFRISK_SF_FUZZ_H */
