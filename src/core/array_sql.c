/*
 * array_sql.c
 *	  Unpacking float8[] arguments (features, covariates, grids) with one
 *	  policy: NULL and NaN elements are missing values or errors as the caller
 *	  asks, infinities are always errors, and every message names the argument
 *	  and the element.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include <float.h>
#include <math.h>

#include "scfrisk_pg.h"

static inline void
CheckFloat8Array(ArrayType *arr, const char *argname)
{
	if (ARR_ELEMTYPE(arr) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s must be a float8[] array", argname)));
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array, not %d-dimensional",
						argname, ARR_NDIM(arr))));
}

int
SfArrayLength(ArrayType *arr, const char *argname)
{
	CheckFloat8Array(arr, argname);
	return ARR_NDIM(arr) == 0 ? 0 : ARR_DIMS(arr)[0];
}

/*
 * The elements of arr (n of them, checked) with the messages of the
 * policy: the slow path, run only once the fast pass of SfGetFeatures has
 * seen an element it must refuse, so the first bad element is the one
 * named.
 */
static void
ReportBadFeatures(ArrayType *arr, int n, SfMissingPolicy policy, const char *argname)
{
	const double *data = (const double *) ARR_DATA_PTR(arr);
	bits8	   *nulls = ARR_NULLBITMAP(arr);
	int			i;

	for (i = 0; i < n; i++)
	{
		double		v;

		if (nulls != NULL && !(nulls[i / 8] & (1 << (i % 8))))
		{
			if (policy == SF_MISSING_REJECT)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("element %d of %s is NULL", i + 1, argname),
						 errhint("Missing values are not allowed here.")));
			continue;
		}
		v = *data++;
		if (isinf(v))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("element %d of %s is infinite", i + 1, argname)));
		if (isnan(v) && policy == SF_MISSING_REJECT)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("element %d of %s is NaN", i + 1, argname),
					 errhint("Missing values are not allowed here.")));
	}
	elog(ERROR, "%s: no bad element found", argname);
}

/*
 * Whether one of the m packed values is infinite, or NaN when the policy
 * refuses missing values: a test of the bits per value, no branch.
 */
static bool
BadValues(const double *data, int m, SfMissingPolicy policy)
{
	const uint64 inf = UINT64CONST(0x7ff0000000000000),
				abs = ~UINT64CONST(0x8000000000000000);
	uint64		bits;
	bool		bad = false;
	int			j;

	if (policy == SF_MISSING_REJECT)
		for (j = 0; j < m; j++)
		{
			memcpy(&bits, &data[j], sizeof(bits));
			bad |= (bits & abs) >= inf;
		}
	else
		for (j = 0; j < m; j++)
		{
			memcpy(&bits, &data[j], sizeof(bits));
			bad |= (bits & abs) == inf;
		}
	return bad;
}

/*
 * With NULL elements: the packed values spread out by the bitmap, NaN at
 * the NULLs, with no branch per element (a NULL bit is as likely as the
 * data makes it, and a branch on it mispredicts about once a row); the
 * elements after the last present one are NaN without a load, so no load
 * reads past the data.  Returns whether an element is infinite, or NULL or
 * NaN when the policy refuses them.
 */
static bool
UnpackWithNulls(const double *data, const bits8 *nulls, int n, double *out, SfMissingPolicy policy)
{
	double		nan = NAN;
	uint64		nanbits;
	const double *src = data;
	int			end = n,
				i;

	/* one past the last present element */
	while (end > 0 && !(nulls[(end - 1) / 8] & (1 << ((end - 1) % 8))))
		end--;
	memcpy(&nanbits, &nan, sizeof(nanbits));
	for (i = 0; i < end; i++)
	{
		uint64		bit = (nulls[(unsigned) i / 8] >> ((unsigned) i % 8)) & 1,
					keep = -bit,	/* all ones when present */
					bits;

		/* by the bits: a compiler turns "present ? v : NAN" into a branch */
		memcpy(&bits, src, sizeof(bits));
		bits = (bits & keep) | (nanbits & ~keep);
		memcpy(&out[i], &bits, sizeof(bits));
		src += bit;
	}
	for (; i < n; i++)
		out[i] = NAN;
	return BadValues(data, (int) (src - data), policy) ||
		(policy == SF_MISSING_REJECT && src - data < n);
}

void
SfGetFeatures(ArrayType *arr, int expected, double *out, SfMissingPolicy policy,
			  const char *argname)
{
	int			n = SfArrayLength(arr, argname);
	const double *data = (const double *) ARR_DATA_PTR(arr);
	bits8	   *nulls = ARR_NULLBITMAP(arr);
	bool		bad;

	if (expected >= 0 && n != expected)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s has %d elements but the model expects %d", argname, n, expected)));

	/*
	 * On the path every scoring call takes: the values copied and checked
	 * with no branch per element; the messages come from ReportBadFeatures.
	 */
	if (nulls == NULL)
	{
		memcpy(out, data, sizeof(double) * n);
		bad = BadValues(data, n, policy);
	}
	else
		bad = UnpackWithNulls(data, nulls, n, out, policy);
	if (unlikely(bad))
		ReportBadFeatures(arr, n, policy, argname);
}

void
SfCheckFloat32Range(const double *x, size_t n, const char *fn, const char *argname)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (unlikely(fabs(x[i]) > FLT_MAX))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s: element %zu of %s (%g) is out of the float4 range the model's network reads",
							fn, i + 1, argname, x[i]),
					 errdetail("The network computes in float32; training refuses such values the same way."),
					 errhint("Rescale the feature (for example to thousands) and train and score on that scale.")));
}

double *
SfGetFeaturesAlloc(ArrayType *arr, int *n, SfMissingPolicy policy, const char *argname)
{
	int			len = SfArrayLength(arr, argname);
	double	   *out = palloc(sizeof(double) * Max(len, 1));

	SfGetFeatures(arr, len, out, policy, argname);
	*n = len;
	return out;
}

double
SfCheckFinite(double v, const char *argname)
{
	if (isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s is NaN", argname)));
	if (isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s is infinite", argname)));
	return v;
}

ArrayType *
SfMakeFloat8Array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}
