/*
 * core.c
 *	  Status names, the malloc environment used by tests and fuzzers, and the
 *	  allocation helpers every core uses (see sf_core.h).
 */
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

sf_status
sf_fail(sf_env *env, sf_status st, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(env->errbuf, sizeof(env->errbuf), fmt, ap);
	va_end(ap);
	env->msg = env->errbuf;
	return st;
}
