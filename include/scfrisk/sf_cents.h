/*
 * sf_cents.h
 *	  A float8 money amount to whole cents exactly as PostgreSQL's
 *	  round(x::numeric, 2) gives them, without the decimal text in between.
 *
 * float8 -> numeric goes through snprintf("%.15g") (15 significant digits,
 * round half to even on the exact binary value), then numeric_round rounds
 * half away from zero to 2 decimals.  sf_cents does both steps in 128-bit
 * integer arithmetic on the exact value of x, so its cents equal
 * PostgreSQL's for every x it accepts (test/unit/test_cents.c compares it
 * with the two steps done on the decimal text).
 */
#ifndef SCFRISK_SF_CENTS_H
#define SCFRISK_SF_CENTS_H

#include <stdint.h>

/* Largest |x| sf_cents takes: beyond it the caller uses the numeric path. */
#define SF_CENTS_MAX	1e13

/*
 * *cents = round(round15(x), 2) * 100 for finite |x| < SF_CENTS_MAX; returns
 * 0 then, -1 for any other x (NaN, infinities, larger amounts), whose cents
 * the caller takes from PostgreSQL's own numeric path.
 */
extern int	sf_cents(double x, int64_t *cents);

#endif							/* SCFRISK_SF_CENTS_H */
