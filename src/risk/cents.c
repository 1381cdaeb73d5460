/*
 * cents.c
 *	  A float8 amount to whole cents as round(x::numeric, 2) gives them
 *	  (sf_cents.h).  The BI views show money as numeric cents; PostgreSQL's
 *	  float8 -> numeric prints the value with 15 significant digits and
 *	  parses the text back, which was most of the cost of reading a risk
 *	  view (docs/benchmarks.md, ## risk).
 *
 * x = m 2^e exactly (m < 2^53).  With k decimals such that
 * 10^14 <= |x| 10^k < 10^15, the 15 significant digits are
 * q = round_half_even(m 10^k 2^e), an exact integer division in 128 bits;
 * the cents are then q / 10^(k-2) rounded half away from zero (numeric
 * rounding), or q 10^(2-k) when k < 2.  Below 1e-4 the amount is 0 cents
 * (15 digits of it stay below 1e-4 < 0.005).
 */
#include <math.h>
#include <stdint.h>

#include "scfrisk/sf_cents.h"

typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
	100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
	10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL
};

/* floor(m 10^k 2^e) and whether the rest is below, at or above one half. */
static uint64_t
scaled(uint64_t m, int e, int k, int *half)
{
	u128		p = (u128) m * pow10_u64[k];
	u128		q,
				r,
				h;

	if (e >= 0)
	{
		*half = -1;
		return (uint64_t) (p << e);
	}
	q = p >> (-e);
	r = p - (q << (-e));
	h = (u128) 1 << (-e - 1);
	*half = r < h ? -1 : (r == h ? 0 : 1);
	return (uint64_t) q;
}

int
sf_cents(double x, int64_t *cents)
{
	double		a = fabs(x);
	int			e2,
				k,
				half;
	uint64_t	m,
				q,
				c;

	if (!(a < SF_CENTS_MAX))
		return -1;				/* NaN, infinite or too large */
	if (a < 1e-4)
	{
		*cents = 0;
		return 0;
	}
	/* a = f 2^e2 with f in [0.5, 1), then m = f 2^53 a 53-bit integer */
	m = (uint64_t) ldexp(frexp(a, &e2), 53);
	/*
	 * 10^14 <= a 10^k < 10^15, k in [2, 18] for 1e-4 <= a < 1e13.  From
	 * log10(a) >= (e2 - 1) log10(2) the first k is never too small (at most
	 * 19: a >= 1e-4 has e2 >= -13), so the loop only lowers it, once or twice,
	 * and no log10 is taken.
	 */
	k = 14 - (int) floor((e2 - 1) * 0.30102999566398120);
	e2 -= 53;
	for (;;)
	{
		q = scaled(m, e2, k, &half);
		if (q >= pow10_u64[15])
			k--;
		else
			break;
	}
	/* 15 significant digits: round half to even, as printf does */
	if (half > 0 || (half == 0 && (q & 1)))
		q++;
	/* to cents: half away from zero, as numeric_round does */
	if (k <= 2)
		c = q * pow10_u64[2 - k];
	else
	{
		uint64_t	d = pow10_u64[k - 2];

		c = q / d;
		if ((q % d) * 2 >= d)
			c++;
	}
	*cents = x < 0 ? -(int64_t) c : (int64_t) c;
	return 0;
}
