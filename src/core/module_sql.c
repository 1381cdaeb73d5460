/*
 * module_sql.c
 *	  The module: PG_MODULE_MAGIC, _PG_init and the scfrisk.* GUCs.
 *
 * _PG_init only defines GUCs and picks the SIMD kernels for this CPU: no
 * threads, no allocation beyond that, so loading scfrisk (even through
 * shared_preload_libraries) starts nothing in the postmaster (STYLE.md rules
 * 16 and 18).
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "scfrisk/nn.h"
#include "scfrisk/sf_blas.h"
#include "scfrisk_pg.h"

PG_MODULE_MAGIC;

#define SCFRISK_THREADS_MIN		1
#define SCFRISK_THREADS_MAX		64
#define SCFRISK_THREADS_DEFAULT	1

#define SCFRISK_MAX_MEMORY_MB_MIN		0
#define SCFRISK_MAX_MEMORY_MB_MAX		(INT_MAX / 2)
/*
 * 1 GB by default: the largest ordinary allocation PostgreSQL itself makes
 * (MaxAllocSize), 16 times the default maintenance_work_mem, enough for a
 * million rows of 200 float32 features, and small enough that a few
 * concurrent trainings cannot exhaust a shared server of 8-16 GB.  0 lifts
 * the cap; a training that needs more stops with 54000 naming this setting.
 */
#define SCFRISK_MAX_MEMORY_MB_DEFAULT	1024

int			scfrisk_threads = SCFRISK_THREADS_DEFAULT;
int			scfrisk_max_memory_mb = SCFRISK_MAX_MEMORY_MB_DEFAULT;

void		_PG_init(void);

void
_PG_init(void)
{
	nn_kernels_init();
	DefineCustomIntVariable("scfrisk.threads",
							"Worker threads scfrisk's numeric kernels may use in one backend.",
							"Threads run pure numeric work only and are joined before control "
							"returns to PostgreSQL. Parallel query remains the way to scale scans.",
							&scfrisk_threads,
							SCFRISK_THREADS_DEFAULT,
							SCFRISK_THREADS_MIN, SCFRISK_THREADS_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("scfrisk.max_memory_mb",
							"Largest amount of memory one scfrisk training call may hold, in megabytes.",
							"Like maintenance_work_mem, but a hard limit: a training call that needs more "
							"stops with an error. 0 means no cap beyond the server's own limits.",
							&scfrisk_max_memory_mb,
							SCFRISK_MAX_MEMORY_MB_DEFAULT,
							SCFRISK_MAX_MEMORY_MB_MIN, SCFRISK_MAX_MEMORY_MB_MAX,
							PGC_USERSET, GUC_UNIT_MB, NULL, NULL, NULL);
	MarkGUCPrefixReserved("scfrisk");
}

/*
 * scfrisk.build_info() -> jsonb: what this build was compiled with, so users
 * and bug reports can tell which BLAS backend is in use.
 */
PG_FUNCTION_INFO_V1(scfrisk_build_info);
Datum
scfrisk_build_info(PG_FUNCTION_ARGS)
{
	char		buf[256];

	snprintf(buf, sizeof(buf),
			 "{\"version\": \"%s\", \"blas\": \"%s\", \"threads\": %d}",
			 SCFRISK_VERSION, sf_blas_backend(), scfrisk_threads);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf)));
}

/*
 * scfrisk.version() -> text: the library version.  IMMUTABLE in SQL so that
 * postgres_fdw ships it to a shard (sql/install/90_scale_out.sql).
 */
PG_FUNCTION_INFO_V1(scfrisk_version);
Datum
scfrisk_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(SCFRISK_VERSION));
}
