/*
 * env_sql.c
 *	  The server side of sf_env: palloc in a memory context with the
 *	  scfrisk.max_memory_mb cap, CHECK_FOR_INTERRUPTS as the interrupt
 *	  callback, and the one mapping of core statuses to ereport.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "scfrisk_pg.h"

/* Allocator state: the context and the bytes it holds for this env. */
typedef struct SfPgAlloc
{
	MemoryContext cxt;
	Size		used;			/* bytes handed out and not yet freed */
	Size		cap;			/* 0 = no cap */
} SfPgAlloc;

static void *
PgAlloc(void *ctx, size_t size)
{
	SfPgAlloc  *a = (SfPgAlloc *) ctx;
	void	   *p;

	if (a->cap != 0 && size > a->cap - Min(a->used, a->cap))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("scfrisk would need more than scfrisk.max_memory_mb = %d MB",
						scfrisk_max_memory_mb),
				 errdetail("%zu bytes are held and %zu more were requested.",
						   (size_t) a->used, size),
				 errhint("Raise scfrisk.max_memory_mb, or train on fewer rows or features.")));
	/* huge allocations: training sets past 1 GB are allowed (DESIGN.md) */
	p = MemoryContextAllocExtended(a->cxt, size == 0 ? 1 : size, MCXT_ALLOC_HUGE);
	a->used += GetMemoryChunkSpace(p);
	return p;
}

static void
PgFree(void *ctx, void *ptr)
{
	SfPgAlloc  *a = (SfPgAlloc *) ctx;

	if (ptr == NULL)
		return;
	a->used -= Min(a->used, GetMemoryChunkSpace(ptr));
	pfree(ptr);
}

static int
PgInterrupt(void *ctx)
{
	(void) ctx;
	CHECK_FOR_INTERRUPTS();
	return 0;
}

void
SfEnvInit(sf_env *env, MemoryContext cxt)
{
	SfPgAlloc  *a = MemoryContextAllocZero(cxt, sizeof(SfPgAlloc));

	a->cxt = cxt;
	a->used = 0;
	a->cap = (Size) scfrisk_max_memory_mb * 1024 * 1024;
	env->alloc.alloc = PgAlloc;
	env->alloc.free = PgFree;
	env->alloc.ctx = a;
	env->interrupt.check = PgInterrupt;
	env->interrupt.ctx = NULL;
	env->progress.report = NULL;	/* SfProgressStart turns it on */
	env->progress.ctx = NULL;
	env->threads = scfrisk_threads;
	env->msg = NULL;
	env->detail = NULL;
	env->hint = NULL;
	env->errbuf[0] = '\0';
}

static int
PgInterruptNoThrow(void *ctx)
{
	(void) ctx;
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

void
SfEnvInitNoThrow(sf_env *env, MemoryContext cxt)
{
	SfEnvInit(env, cxt);
	env->interrupt.check = PgInterruptNoThrow;
}

void
SfCheckNoThrow(sf_status st, const sf_env *env, const char *what)
{
	if (st == SF_ECANCEL)
		CHECK_FOR_INTERRUPTS();
	if (st != SF_OK)
		SfReportStatus(st, env, what);
}

void
SfReportStatus(sf_status st, const sf_env *env, const char *what)
{
	int			code;
	const char *msg = (env && env->msg) ? env->msg : sf_status_name(st);

	switch (st)
	{
		case SF_OK:
			return;
		case SF_EINVAL:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case SF_EDATA:
			code = ERRCODE_DATA_EXCEPTION;
			break;
		case SF_ECORRUPT:
			code = ERRCODE_DATA_CORRUPTED;
			break;
		case SF_EVERSION:
			code = ERRCODE_FEATURE_NOT_SUPPORTED;
			break;
		case SF_EKIND:
			code = ERRCODE_WRONG_OBJECT_TYPE;
			break;
		case SF_ENOMEM:
			code = ERRCODE_OUT_OF_MEMORY;
			break;
		case SF_ELIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case SF_ECANCEL:
			code = ERRCODE_QUERY_CANCELED;
			break;
		case SF_ENUMERIC:
			code = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
			break;
		default:
			elog(ERROR, "scfrisk: unexpected status %d in %s", (int) st, what);
			return;
	}
	/* the core's detail and hint, where it knows what the user can do */
	ereport(ERROR,
			(errcode(code),
			 errmsg("%s: %s", what, msg),
			 (env && env->detail) ? errdetail("%s", env->detail) : 0,
			 (env && env->hint) ? errhint("%s", env->hint) : 0));
}
