/*
 * cv.h
 *	  Fold assignment of scfrisk.cross_validate and scfrisk.tune: a row's
 *	  fold is a hash of its content, so the folds do not depend on the scan
 *	  order, the plan or the other rows.
 *
 * The hash chains splitmix64's finaliser over 64-bit words: h = seed, then
 * for each feature and finally the label h = mix(h ^ bits(v)), where bits is
 * the IEEE-754 double's bit pattern with -0 read as +0 and every NaN (a
 * missing value, a NULL element) as the one quiet NaN 0x7ff8000000000000.
 * The fold is h mod folds.  docs/cross-validation.md gives the same
 * computation in numpy.
 */
#ifndef SCFRISK_CV_H
#define SCFRISK_CV_H

#include <stddef.h>
#include <stdint.h>

#define SF_CV_MAX_FOLDS		100

/* splitmix64's output function (Steele, Lea and Flood 2014) of z + golden gamma. */
extern uint64_t sf_cv_mix(uint64_t z);

/* The hash of a row: features x[0..n) then label. */
extern uint64_t sf_cv_row_hash(const double *x, size_t n, double label, uint64_t seed);

/* The fold (0 .. folds - 1) of a row; folds >= 1. */
extern int	sf_cv_row_fold(const double *x, size_t n, double label, int folds, uint64_t seed);

#endif							/* SCFRISK_CV_H */
