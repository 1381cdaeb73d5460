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

void
SfGetFeatures(ArrayType *arr, int expected, double *out, SfMissingPolicy policy,
			  const char *argname)
{
	int			n = SfArrayLength(arr, argname);
	const double *data = (const double *) ARR_DATA_PTR(arr);
	bits8	   *nulls = ARR_NULLBITMAP(arr);
	int			i;

	if (expected >= 0 && n != expected)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s has %d elements but the model expects %d", argname, n, expected)));

	/*
	 * Without a NULL bitmap the elements are contiguous doubles: one test of
	 * isfinite() per element on the path every scoring call takes.
	 */
	if (nulls == NULL)
	{
		for (i = 0; i < n; i++)
		{
			double		v = data[i];

			if (unlikely(!isfinite(v)))
			{
				if (isinf(v))
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("element %d of %s is infinite", i + 1, argname)));
				if (policy == SF_MISSING_REJECT)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("element %d of %s is NaN", i + 1, argname),
							 errhint("Missing values are not allowed here.")));
			}
			out[i] = v;
		}
		return;
	}

	/* With NULL elements: walk the bitmap beside the packed data. */
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
			out[i] = NAN;
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
		out[i] = v;
	}
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
