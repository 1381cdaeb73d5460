/*
 * qrgmm_levels.h
 *	  Internal: the level-fitting stage of the QRGMM fit (qrgmm_levels.c),
 *	  shared with qrgmm.c.  Not a public header.
 */
#ifndef SCFRISK_QRGMM_LEVELS_H
#define SCFRISK_QRGMM_LEVELS_H

#include "scfrisk/quantreg.h"

#define QRGMM_CHAIN		8		/* consecutive levels per warm-started chain */

/* Everything the level fits read and write; outputs are disjoint per level. */
typedef struct qrgmm_levels_job
{
	const double *design;		/* (n, p) standardised design */
	const double *y;			/* (n) standardised responses */
	int			n;
	int			p;
	int			m;				/* levels j/m, j = 1..m-1 */
	int			preprocess;		/* use Portnoy-Koenker preprocessing */
	uint64_t	seed;			/* subsample seed of a cold preprocessed start (+ chain) */
	sf_qr_options opt;
	const double *center;		/* (p) design standardisation */
	const double *scale;		/* (p) */
	double		y_center;
	double		y_scale;
	double	   *coef;			/* out (m-1, p): raw-basis coefficients */
	uint32_t   *iterations;		/* out (m-1) */
	double	   *gaps;			/* out (m-1) */
} qrgmm_levels_job;

/*
 * Fit every level, on min(env->threads, chains) threads.  env->interrupt
 * is polled from the calling thread only and must return (not longjmp)
 * while workers run.  Returns the first error (SF_ECANCEL on interrupt).
 */
extern sf_status qrgmm_fit_levels(sf_env *env, const qrgmm_levels_job *job);

#endif							/* SCFRISK_QRGMM_LEVELS_H */
