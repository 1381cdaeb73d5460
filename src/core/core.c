/*
 * core.c
 *	  Status names, the malloc environment used by tests and fuzzers, and the
 *	  allocation helpers every core uses (see sf_core.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_core.h"

const char *
sf_status_name(sf_status st)
{
	switch (st)
	{
		case SF_OK:
			return "SF_OK";
		case SF_EINVAL:
			return "SF_EINVAL";
		case SF_EDATA:
			return "SF_EDATA";
		case SF_ECORRUPT:
			return "SF_ECORRUPT";
		case SF_EVERSION:
			return "SF_EVERSION";
		case SF_EKIND:
			return "SF_EKIND";
		case SF_ENOMEM:
			return "SF_ENOMEM";
		case SF_ELIMIT:
			return "SF_ELIMIT";
		case SF_ECANCEL:
			return "SF_ECANCEL";
		case SF_ENUMERIC:
			return "SF_ENUMERIC";
	}
	return "SF_UNKNOWN";
}

static void *
malloc_alloc(void *ctx, size_t size)
{
	(void) ctx;
	return malloc(size == 0 ? 1 : size);
}

static void
malloc_free(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

void
sf_env_init_malloc(sf_env *env)
{
	env->alloc.alloc = malloc_alloc;
	env->alloc.free = malloc_free;
	env->alloc.ctx = NULL;
	env->interrupt.check = NULL;
	env->interrupt.ctx = NULL;
	env->progress.report = NULL;
	env->progress.ctx = NULL;
	env->threads = 1;
	env->msg = NULL;
	env->detail = NULL;
	env->hint = NULL;
	env->errbuf[0] = '\0';
}

void *
sf_malloc(sf_env *env, size_t size)
{
	return env->alloc.alloc(env->alloc.ctx, size == 0 ? 1 : size);
}

void *
sf_calloc(sf_env *env, size_t count, size_t size)
{
	size_t		total;
	void	   *p;

	if (!sf_mul_size(count, size, &total))
		return NULL;
	p = sf_malloc(env, total);
	if (p == NULL)
		return NULL;
	memset(p, 0, total);
	return p;
}

void
sf_free(sf_env *env, void *ptr)
{
	if (ptr != NULL)
		env->alloc.free(env->alloc.ctx, ptr);
}

void
sf_free_each(sf_env *env, const void *const *ptrs, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		sf_free(env, (void *) ptrs[i]);
}

/*
 * A slot is the address of a T * for any object type T, read and written
 * as a void * with memcpy: object pointers share one representation on
 * every platform scfrisk builds for (POSIX's dlsym relies on no less).
 */
void
sf_free_slots(sf_env *env, void *const *slots, size_t n)
{
	void	   *p,
			   *null = NULL;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		memcpy(&p, slots[i], sizeof(p));
		sf_free(env, p);
		memcpy(slots[i], &null, sizeof(null));
	}
}

int
sf_alloc_each(sf_env *env, const sf_array_spec *arrays, size_t n)
{
	size_t		i,
				j,
				total;

	for (i = 0; i < n; i++)
	{
		const sf_array_spec *a = &arrays[i];
		void	   *p = NULL;

		if (sf_mul_size(a->count, a->size, &total))
			p = a->zero ? sf_calloc(env, a->count, a->size) : sf_malloc(env, total);
		if (p == NULL)
		{
			/* none: what this call made is freed, and every slot is NULL */
			for (j = 0; j < n; j++)
				if (j < i)
					sf_free_slots(env, &arrays[j].slot, 1);
				else
					memcpy(arrays[j].slot, &p, sizeof(p));
			return 0;
		}
		memcpy(a->slot, &p, sizeof(p));
	}
	return 1;
}

/*
 * Format into a copy first: a core may wrap the message of a failure it
 * caught ("corrupted mlp model: %s", env->msg), whose text is errbuf itself.
 */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 0)))
#endif
static void
format_into(char *buf, size_t size, const char *fmt, va_list ap)
{
	char		tmp[512];

	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	snprintf(buf, size, "%s", tmp);
}

/* Record a failure: message, no detail, the hint when there is one. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 0)))
#endif
static sf_status
fail_with(sf_env *env, sf_status st, const char *hint, const char *fmt, va_list ap)
{
	format_into(env->errbuf, sizeof(env->errbuf), fmt, ap);
	env->msg = env->errbuf;
	env->detail = NULL;
	env->hint = hint ? strncpy(env->hintbuf, hint, sizeof(env->hintbuf) - 1) : NULL;
	env->hintbuf[sizeof(env->hintbuf) - 1] = '\0';
	return st;
}

sf_status
sf_fail(sf_env *env, sf_status st, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	st = fail_with(env, st, NULL, fmt, ap);
	va_end(ap);
	return st;
}

sf_status
sf_fail_hint(sf_env *env, sf_status st, const char *hint, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	st = fail_with(env, st, hint, fmt, ap);
	va_end(ap);
	return st;
}

void
sf_hint(sf_env *env, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	format_into(env->hintbuf, sizeof(env->hintbuf), fmt, ap);
	env->hint = env->hintbuf;
	va_end(ap);
}

void
sf_detail(sf_env *env, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	format_into(env->detailbuf, sizeof(env->detailbuf), fmt, ap);
	env->detail = env->detailbuf;
	va_end(ap);
}

void
sf_env_copy_failure(sf_env *to, const sf_env *from)
{
	snprintf(to->errbuf, sizeof(to->errbuf), "%s", from->msg ? from->msg : "");
	to->msg = from->msg ? to->errbuf : NULL;
	snprintf(to->detailbuf, sizeof(to->detailbuf), "%s", from->detail ? from->detail : "");
	to->detail = from->detail ? to->detailbuf : NULL;
	snprintf(to->hintbuf, sizeof(to->hintbuf), "%s", from->hint ? from->hint : "");
	to->hint = from->hint ? to->hintbuf : NULL;
}

sf_status
sf_check_binary_rows(sf_env *env, const double *x, const double *y, size_t n, uint32_t p,
					 size_t count[2])
{
	size_t		i,
				nx,
				c[2] = {0, 0};

	if (!sf_mul_size(n, p, &nx))
		return sf_fail(env, SF_ELIMIT, "training matrix too large");
	for (i = 0; i < n; i++)
	{
		if (y[i] != 0.0 && y[i] != 1.0)
			return sf_fail(env, SF_EDATA, "label of row %zu is %g, labels must be 0 or 1", i + 1, y[i]);
		c[(int) y[i]]++;
	}
	if (c[0] == 0 || c[1] == 0)
		return sf_fail(env, SF_EDATA, "both classes are needed, every label is %d", c[1] ? 1 : 0);
	for (i = 0; i < nx; i++)
		if (!isfinite(x[i]))
			return sf_fail(env, SF_EDATA, "feature %zu of row %zu is not finite", i % p + 1, i / p + 1);
	if (count)
	{
		count[0] = c[0];
		count[1] = c[1];
	}
	return SF_OK;
}

sf_status
sf_check_shape(sf_env *env, size_t n, uint32_t p, uint32_t max_features)
{
	if (n == 0)
		return sf_fail(env, SF_EDATA, "no training rows");
	if (p == 0 || p > max_features)
		return sf_fail(env, SF_EDATA, "features must have 1 to %u elements, got %u",
					   (unsigned) max_features, (unsigned) p);
	return SF_OK;
}

char *
sf_strndup(sf_env *env, const void *s, size_t len)
{
	char	   *t = len < SIZE_MAX ? sf_malloc(env, len + 1) : NULL;

	if (t != NULL)
	{
		memcpy(t, s, len);
		t[len] = '\0';
	}
	return t;
}

int
sf_cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}
