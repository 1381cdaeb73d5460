/*
 * sf_test.h
 *	  A minimal single-header test harness for the scfrisk cores (genann's
 *	  minctest in spirit).  Every check prints a TAP line ("ok N - what" or
 *	  "not ok N - what"), which the test runner counts; main returns non-zero
 *	  when any check failed.
 *
 *	  SF_TEST(name) { ... }      defines a test function
 *	  SF_RUN(name);              runs it from main
 *	  SF_OK(cond, fmt, ...)      a boolean check
 *	  SF_NEAR(a, b, tol, what)   |a - b| <= tol (absolute)
 *	  SF_REL(a, b, rtol, what)   |a - b| <= rtol * max(1, |b|)
 *	  return sf_test_done();     at the end of main: prints the plan
 */
#ifndef SCFRISK_SF_TEST_H
#define SCFRISK_SF_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int	sf_test_count = 0;
static int	sf_test_failed = 0;
static const char *sf_test_current = "";

#define SF_TEST(name) static void name(void)
#define SF_RUN(name) do { sf_test_current = #name; name(); } while (0)

#define SF_OK(cond, ...) \
	do { \
		int sf_ok_ = (cond) ? 1 : 0; \
		sf_test_count++; \
		if (!sf_ok_) sf_test_failed++; \
		printf("%s %d - %s: ", sf_ok_ ? "ok" : "not ok", sf_test_count, sf_test_current); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		if (!sf_ok_) printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	} while (0)

#define SF_NEAR(a, b, tol, what) \
	do { \
		double sf_a_ = (double) (a), sf_b_ = (double) (b); \
		SF_OK(fabs(sf_a_ - sf_b_) <= (tol), "%s (%.10g vs %.10g, tol %g)", (what), sf_a_, sf_b_, (double) (tol)); \
	} while (0)

#define SF_REL(a, b, rtol, what) \
	do { \
		double sf_a_ = (double) (a), sf_b_ = (double) (b); \
		double sf_s_ = fabs(sf_b_) > 1.0 ? fabs(sf_b_) : 1.0; \
		SF_OK(fabs(sf_a_ - sf_b_) <= (rtol) * sf_s_, "%s (%.10g vs %.10g, rtol %g)", (what), sf_a_, sf_b_, (double) (rtol)); \
	} while (0)

static inline int
sf_test_done(void)
{
	printf("1..%d\n", sf_test_count);
	if (sf_test_failed)
		printf("# %d of %d checks failed\n", sf_test_failed, sf_test_count);
	return sf_test_failed ? 1 : 0;
}

#endif							/* SCFRISK_SF_TEST_H */
