/*
 * sf_rng.h
 *	  scfrisk's own random number generator: xoshiro256** seeded through
 *	  splitmix64, with independent streams.
 *
 * Every random choice in scfrisk (row subsampling, validation splits, weight
 * initialisation, QRGMM sampling) draws from an sf_rng seeded by the user's
 * seed and a stream number, so the same seed and data give the same model
 * bytes on every platform.  Never rand().  References: Blackman and Vigna,
 * "Scrambled linear pseudorandom number generators" (2021); Steele, Lea and
 * Flood, "Fast splittable pseudorandom number generators" (2014); Lemire,
 * "Fast random integer generation in an interval" (2019).
 */
#ifndef SCFRISK_SF_RNG_H
#define SCFRISK_SF_RNG_H

#include <stdint.h>

typedef struct sf_rng
{
	uint64_t	s[4];			/* xoshiro256** state, never all zero */
} sf_rng;

/* One splitmix64 step: advances *state and returns the next output. */
extern uint64_t sf_splitmix64(uint64_t *state);

/*
 * Seed a generator.  Streams with different numbers from the same seed are
 * independent for all practical purposes (the seed and stream are mixed
 * through splitmix64 before filling the state).
 */
extern void sf_rng_init(sf_rng *rng, uint64_t seed, uint64_t stream);

/* Next 64 random bits. */
extern uint64_t sf_rng_next(sf_rng *rng);

/* Uniform double in [0, 1) with 53 random bits. */
extern double sf_rng_uniform(sf_rng *rng);

/* Uniform double in (0, 1): never exactly 0, for logs and inverse CDFs. */
extern double sf_rng_uniform_open(sf_rng *rng);

/* Uniform integer in [0, n) without modulo bias (Lemire); n >= 1. */
extern uint64_t sf_rng_below(sf_rng *rng, uint64_t n);

/* Standard normal deviate (Marsaglia polar method, no cached spare). */
extern double sf_rng_normal(sf_rng *rng);

/* Advance by 2^128 steps: non-overlapping sequences for worker threads. */
extern void sf_rng_jump(sf_rng *rng);

/* Fisher-Yates shuffle of idx[0..n). */
extern void sf_rng_shuffle_u32(sf_rng *rng, uint32_t *idx, uint32_t n);

#endif							/* SCFRISK_SF_RNG_H */
