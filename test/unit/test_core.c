/*
 * test_core.c
 *	  Unit tests of sf_core: status names, the malloc environment, size
 *	  overflow guards, formatted failure messages, and the interrupt callback.
 */
#include <string.h>

#include "scfrisk/sf_core.h"
#include "sf_test.h"

static int	polls = 0;

static int
stop_after_three(void *ctx)
{
	(void) ctx;
	return ++polls >= 3;
}

SF_TEST(test_status)
{
	SF_OK(strcmp(sf_status_name(SF_ECORRUPT), "SF_ECORRUPT") == 0, "status name");
	SF_OK(SF_OK == 0, "SF_OK is zero");
}

SF_TEST(test_alloc)
{
	sf_env		env;
	size_t		out = 0;
	unsigned char *p;
	int			zero = 1,
				i;

	sf_env_init_malloc(&env);
	p = sf_calloc(&env, 100, 3);
	for (i = 0; i < 300; i++)
		zero &= p[i] == 0;
	SF_OK(p != NULL && zero, "calloc zeroes");
	sf_free(&env, p);
	sf_free(&env, NULL);
	SF_OK(sf_calloc(&env, SIZE_MAX / 2, 4) == NULL, "calloc refuses an overflowing size");
	SF_OK(!sf_mul_size(SIZE_MAX, 2, &out) && out == 0, "mul_size detects overflow");
	SF_OK(sf_mul_size(1000, 1000, &out) && out == 1000000, "mul_size multiplies");
}

/* An allocator that counts, and refuses the allocation number fail_at (1-based; 0: never). */
typedef struct counting
{
	int			allocs,
				frees,
				fail_at;
} counting;

static void *
counting_alloc(void *ctx, size_t size)
{
	counting   *c = ctx;

	if (c->fail_at > 0 && c->allocs + 1 == c->fail_at)
		return NULL;
	c->allocs++;
	return malloc(size);
}

static void
counting_free(void *ctx, void *ptr)
{
	counting   *c = ctx;

	c->frees++;
	free(ptr);
}

typedef struct three
{
	double	   *a;
	int32_t    *b;
	const char *c;
} three;

SF_TEST(test_alloc_all)
{
	sf_env		env;
	counting	cnt = {0, 0, 0};
	three		t;
	int			i,
				ok,
				zero = 1;

	sf_env_init_malloc(&env);
	env.alloc.alloc = counting_alloc;
	env.alloc.free = counting_free;
	env.alloc.ctx = &cnt;
	memset(&t, 0xff, sizeof(t));	/* the slots need not be NULL beforehand */
	ok = sf_alloc_all(&env, SF_MALLOC_N(t.a, 10), SF_CALLOC_N(t.b, 7), SF_CALLOC_N(t.c, 0));
	for (i = 0; ok && i < 7; i++)
		zero &= t.b[i] == 0;
	SF_OK(ok && t.a && t.b && t.c && cnt.allocs == 3 && zero,
		  "all three arrays made, the zeroed one zero, a count of 0 a valid pointer");
	t.a[9] = 1.5;				/* ASan: 10 doubles, not 10 bytes */
	sf_free_clear(&env, &t.a, &t.b, &t.c);
	SF_OK(t.a == NULL && t.b == NULL && t.c == NULL && cnt.frees == 3, "sf_free_clear frees and clears each slot");
	sf_free_clear(&env, &t.a, &t.b);
	SF_OK(cnt.frees == 3, "sf_free_clear of cleared slots frees nothing");

	for (i = 1; i <= 3; i++)
	{
		cnt.allocs = cnt.frees = 0;
		cnt.fail_at = i;
		memset(&t, 0xff, sizeof(t));
		ok = sf_alloc_all(&env, SF_MALLOC_N(t.a, 10), SF_CALLOC_N(t.b, 7), SF_CALLOC_N(t.c, 3));
		SF_OK(!ok && t.a == NULL && t.b == NULL && t.c == NULL && cnt.allocs == cnt.frees,
			  "allocation %d of 3 fails: none kept, every slot NULL, %d made and %d freed", i,
			  cnt.allocs, cnt.frees);
	}
	cnt.allocs = cnt.frees = cnt.fail_at = 0;
	ok = sf_alloc_all(&env, SF_MALLOC_N(t.a, 4), SF_MALLOC_N(t.b, SIZE_MAX / 2));
	SF_OK(!ok && t.a == NULL && t.b == NULL && cnt.allocs == 1 && cnt.frees == 1,
		  "an overflowing count fails the call and frees the arrays before it");

	ok = sf_alloc_all(&env, SF_MALLOC_N(t.a, 4), SF_MALLOC_N(t.b, 4));
	t.c = NULL;
	sf_free_all(&env, t.a, t.c, t.b);
	SF_OK(ok && cnt.allocs == 3 && cnt.frees == 3, "sf_free_all frees each pointer and skips NULL (%d of %d)",
		  cnt.frees, cnt.allocs);
}

SF_TEST(test_fail_and_interrupt)
{
	sf_env		env;
	int			i,
				stopped_at = -1;

	sf_env_init_malloc(&env);
	SF_OK(sf_fail(&env, SF_EDATA, "row %d has %s", 7, "NaN") == SF_EDATA &&
		  strcmp(env.msg, "row 7 has NaN") == 0, "sf_fail formats: %s", env.msg);
	SF_OK(!sf_interrupted(&env), "no callback, no interrupt");
	env.interrupt.check = stop_after_three;
	for (i = 0; i < 10; i++)
		if (sf_interrupted(&env))
		{
			stopped_at = i;
			break;
		}
	SF_OK(stopped_at == 2, "interrupt callback stops the loop (at %d)", stopped_at);
}

SF_TEST(test_detail_and_hint)
{
	sf_env		env,
				copy;

	sf_env_init_malloc(&env);
	SF_OK(env.detail == NULL && env.hint == NULL, "a fresh env has no detail or hint");
	SF_OK(sf_fail_hint(&env, SF_ELIMIT, "Train on a sample.", "%d rows, at most %d", 9, 5) == SF_ELIMIT &&
		  strcmp(env.msg, "9 rows, at most 5") == 0 && env.hint && strcmp(env.hint, "Train on a sample.") == 0,
		  "sf_fail_hint keeps message and hint: %s / %s", env.msg, env.hint ? env.hint : "none");
	sf_detail(&env, "%d bytes held", 12);
	SF_OK(env.detail && strcmp(env.detail, "12 bytes held") == 0, "sf_detail formats: %s",
		  env.detail ? env.detail : "none");
	sf_env_init_malloc(&copy);
	sf_env_copy_failure(&copy, &env);
	SF_OK(copy.msg && strcmp(copy.msg, env.msg) == 0 && copy.hint && strcmp(copy.hint, env.hint) == 0 &&
		  copy.detail && strcmp(copy.detail, env.detail) == 0 && copy.msg != env.msg,
		  "sf_env_copy_failure copies message, detail and hint into the other env's buffers");
	sf_fail(&env, SF_EDATA, "another failure");
	SF_OK(env.detail == NULL && env.hint == NULL, "sf_fail clears the detail and hint of an earlier failure");
	sf_hint(&env, "Pass \"k\" of at most %d.", 17);
	SF_OK(env.hint && strcmp(env.hint, "Pass \"k\" of at most 17.") == 0, "sf_hint formats: %s",
		  env.hint ? env.hint : "none");
	/* a core wraps a message it caught: the text is errbuf itself */
	sf_fail(&env, SF_ECORRUPT, "layer %d truncated", 2);
	sf_fail(&env, SF_ECORRUPT, "corrupted mlp model: %s", env.msg);
	SF_OK(strcmp(env.msg, "corrupted mlp model: layer 2 truncated") == 0, "wrapping env->msg is safe: %s",
		  env.msg);
}

/* The shared helpers of several cores: shape check, string copy, comparator. */
static void
test_shared_helpers(void)
{
	sf_env		env;
	const char	src[] = "abc\0def";
	char	   *t;
	double		v[] = {3.5, -1.0, 2.0, -1.0, 0.0};
	int			i,
				sorted = 1;

	sf_env_init_malloc(&env);
	SF_OK(sf_check_shape(&env, 10, 3, 5) == SF_OK, "sf_check_shape accepts 10 rows of 3 features (at most 5)");
	SF_OK(sf_check_shape(&env, 0, 3, 5) == SF_EDATA && strcmp(env.msg, "no training rows") == 0,
		  "no rows: SF_EDATA \"%s\"", env.msg);
	SF_OK(sf_check_shape(&env, 10, 6, 5) == SF_EDATA &&
		  strcmp(env.msg, "features must have 1 to 5 elements, got 6") == 0, "too wide: \"%s\"", env.msg);
	SF_OK(sf_check_shape(&env, 10, 0, 5) == SF_EDATA, "no features: SF_EDATA");
	t = sf_strndup(&env, src, 5);
	SF_OK(t != NULL && memcmp(t, src, 5) == 0 && t[5] == '\0', "sf_strndup copies len bytes, NUL-terminated");
	sf_free(&env, t);
	t = sf_strndup(&env, "", 0);
	SF_OK(t != NULL && t[0] == '\0', "sf_strndup of nothing is the empty string");
	sf_free(&env, t);
	qsort(v, 5, sizeof(double), sf_cmp_double);
	for (i = 1; i < 5; i++)
		sorted &= v[i - 1] <= v[i];
	SF_OK(sorted && v[0] == -1.0 && v[4] == 3.5, "sf_cmp_double sorts ascending, ties kept together");
}

int
main(void)
{
	SF_RUN(test_status);
	SF_RUN(test_alloc);
	SF_RUN(test_alloc_all);
	SF_RUN(test_fail_and_interrupt);
	SF_RUN(test_detail_and_hint);
	SF_RUN(test_shared_helpers);
	return sf_test_done();
}
