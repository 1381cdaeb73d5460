/*
 * demo_sql.c
 *	  Counter-based random numbers for the synthetic demo data set
 *	  (scfrisk.generate_demo_data, docs/demo-data.md).
 *
 * The generator is set-based SQL, so rows are produced in whatever order the
 * executor likes (and possibly by parallel workers).  A sequential generator
 * seeded with setseed() would make the data depend on that order; instead
 * every draw is a pure function of (seed, stream, k): splitmix64 applied to
 * a mix of the three, as in counter-based generators (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC 2011).  Same seed, same
 * data, on every platform and plan.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"

#include "scfrisk/sf_rng.h"

/* Uniform in (0, 1) from (seed, stream, k): 53 bits of two splitmix64 rounds. */
static double
DemoUniform(int64 seed, int64 stream, int64 k)
{
	uint64_t	st = (uint64_t) seed * UINT64_C(0x9E3779B97F4A7C15)
		^ (uint64_t) stream * UINT64_C(0xD1B54A32D192ED03)
		^ (uint64_t) k * UINT64_C(0x8CB92BA72F3D8DD7);
	uint64_t	x;

	(void) sf_splitmix64(&st);
	x = sf_splitmix64(&st);
	return ((double) (x >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

PG_FUNCTION_INFO_V1(demo_uniform);
Datum
demo_uniform(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(DemoUniform(PG_GETARG_INT64(0), PG_GETARG_INT64(1), PG_GETARG_INT64(2)));
}

/* Standard normal by Box-Muller on draws 2k and 2k+1 of the stream. */
PG_FUNCTION_INFO_V1(demo_normal);
Datum
demo_normal(PG_FUNCTION_ARGS)
{
	int64		seed = PG_GETARG_INT64(0);
	int64		stream = PG_GETARG_INT64(1);
	int64		k = PG_GETARG_INT64(2);
	double		u1 = DemoUniform(seed, stream, 2 * k);
	double		u2 = DemoUniform(seed, stream, 2 * k + 1);

	PG_RETURN_FLOAT8(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}
