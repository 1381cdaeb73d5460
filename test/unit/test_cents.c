/*
 * test_cents.c
 *	  sf_cents against PostgreSQL's two steps done on the decimal text:
 *	  snprintf("%.15e") (the 15 significant digits float8 -> numeric keeps,
 *	  rounded by the C library as PostgreSQL's %.15g is) and a rounding of
 *	  that decimal half away from zero to 2 decimals (numeric_round).
 *	  Random amounts over the whole range, exact ties at the 15th digit,
 *	  amounts one ulp either side of half a cent, signs and the refusals.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf_test.h"
#include "scfrisk/sf_cents.h"

/* The reference: cents of x through the decimal text. */
static int64_t
ref_cents(double x)
{
	char		buf[64],
			   *ep;
	int64_t		digits = 0;
	int			exp10,
				i,
				shift;
	const char *p;
	int64_t		c;

	snprintf(buf, sizeof(buf), "%.14e", x < 0 ? -x : x);	/* d.dddddddddddddde+X: 15 digits */
	for (p = buf; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits = digits * 10 + (*p - '0');
	exp10 = (int) strtol(p + 1, &ep, 10);
	/* value = digits 10^(exp10 - 14); cents = value 100 */
	shift = exp10 - 14 + 2;
	if (shift >= 0)
	{
		c = digits;
		for (i = 0; i < shift; i++)
			c *= 10;
	}
	else
	{
		int64_t		d = 1;

		for (i = 0; i < -shift && d < INT64_C(1000000000000000000); i++)
			d *= 10;
		if (-shift > 18)
			c = 0;				/* far below a cent */
		else
			c = digits / d + ((digits % d) * 2 >= d ? 1 : 0);
	}
	return x < 0 ? -c : c;
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t
next_u64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
check(double x, int *bad, double *worst)
{
	int64_t		got;

	if (sf_cents(x, &got) != 0)
		return 0;
	if (got != ref_cents(x))
	{
		if (*bad < 5)
			printf("# %.17g: sf_cents %lld, reference %lld\n", x, (long long) got,
				   (long long) ref_cents(x));
		(*bad)++;
		*worst = x;
	}
	return 1;
}

SF_TEST(test_random_amounts)
{
	int			bad = 0,
				n = 0,
				i;
	double		worst = 0;

	for (i = 0; i < 2000000; i++)
	{
		/* log-uniform over [1e-5, 1e13), both signs */
		double		u = (double) (next_u64() >> 11) / 9007199254740992.0;
		double		x = pow(10.0, -5.0 + 18.0 * u);

		if (next_u64() & 1)
			x = -x;
		n += check(x, &bad, &worst);
	}
	SF_OK(bad == 0 && n > 1900000, "%d random amounts in [1e-5, 1e13) equal the decimal path (%d differ, e.g. %.17g)",
		  n, bad, worst);
}

SF_TEST(test_ties)
{
	int			bad = 0,
				n = 0,
				i,
				k;
	double		worst = 0;

	/* exact ties at the 15th digit: x = u / 2^(k+1) with u odd, x 10^k = u 5^k / 2 */
	for (k = 2; k <= 6; k++)
	{
		double		p5 = pow(5.0, k);

		for (i = 0; i < 20000; i++)
		{
			double		lo = ceil(2e14 / p5),
						span = floor(2e15 / p5) - lo;
			double		u = lo + floor((double) (next_u64() >> 11) / 9007199254740992.0 * span);

			if (fmod(u, 2.0) == 0.0)
				u += 1.0;
			n += check(ldexp(u, -(k + 1)), &bad, &worst);
		}
	}
	SF_OK(bad == 0 && n == 100000, "%d exact ties at the 15th digit round half to even (%d differ, e.g. %.17g)",
		  n, bad, worst);
}

SF_TEST(test_half_cents)
{
	int			bad = 0,
				n = 0,
				i;
	double		worst = 0;

	/* n + 0.005 and its neighbours: 1.005 is 1.00499999999999989...; 15 digits say 1.005 */
	for (i = 0; i < 200000; i++)
	{
		double		x = (double) (next_u64() % 100000000ULL) / 100.0 + 0.005;

		n += check(x, &bad, &worst);
		n += check(nextafter(x, 0.0), &bad, &worst);
		n += check(nextafter(x, 1e300), &bad, &worst);
		n += check(-x, &bad, &worst);
	}
	SF_OK(bad == 0, "%d amounts at half a cent and one ulp either side (%d differ, e.g. %.17g)", n, bad, worst);
	{
		int64_t		c;

		SF_OK(sf_cents(1.005, &c) == 0 && c == 101, "1.005 is 101 cents, as round(1.005::float8::numeric, 2) (got %lld)",
			  (long long) c);
		SF_OK(sf_cents(-0.001, &c) == 0 && c == 0, "-0.001 is 0 cents");
		SF_OK(sf_cents(0.0049999999999999992, &c) == 0 && c == 1,
			  "an amount just below half a cent whose 15 digits are 0.005 is 1 cent (got %lld)", (long long) c);
	}
}

SF_TEST(test_refusals)
{
	int64_t		c;

	SF_OK(sf_cents(NAN, &c) == -1, "NaN is left to the numeric path");
	SF_OK(sf_cents(INFINITY, &c) == -1 && sf_cents(-INFINITY, &c) == -1, "infinities are left to the numeric path");
	SF_OK(sf_cents(1e13, &c) == -1 && sf_cents(-2e15, &c) == -1, "amounts of 1e13 and beyond are left to the numeric path");
	SF_OK(sf_cents(9999999999999.99, &c) == 0 && c == ref_cents(9999999999999.99), "the largest amounts below 1e13 are taken");
}

int
main(void)
{
	SF_RUN(test_random_amounts);
	SF_RUN(test_ties);
	SF_RUN(test_half_cents);
	SF_RUN(test_refusals);
	return sf_test_done();
}
