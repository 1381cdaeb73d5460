/*
 * rng.c
 *	  xoshiro256** with splitmix64 seeding (see sf_rng.h for references).
 *
 * Only integer arithmetic and one fixed conversion to double are used, so the
 * streams are identical on every platform; sf_rng_normal uses log and sqrt,
 * which IEEE-754 platforms with a correctly rounded libm agree on for all
 * practical purposes.
 */
#include <math.h>

#include "scfrisk/sf_rng.h"

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
sf_splitmix64(uint64_t *state)
{
	uint64_t	z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void
sf_rng_init(sf_rng *rng, uint64_t seed, uint64_t stream)
{
	/* Mix the stream number in through its own splitmix64 output, so that
	 * (seed, stream) and (seed + 1, stream - 1) do not collide. */
	uint64_t	st = stream;
	uint64_t	sm = seed ^ sf_splitmix64(&st);
	int			i;

	for (i = 0; i < 4; i++)
		rng->s[i] = sf_splitmix64(&sm);
	if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
		rng->s[0] = 1;			/* the one forbidden state */
}

uint64_t
sf_rng_next(sf_rng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double
sf_rng_uniform(sf_rng *rng)
{
	return (double) (sf_rng_next(rng) >> 11) * 0x1.0p-53;
}

double
sf_rng_uniform_open(sf_rng *rng)
{
	/* (k + 0.5) / 2^53 for k in [0, 2^53): symmetric and never 0 or 1 */
	return ((double) (sf_rng_next(rng) >> 11) + 0.5) * 0x1.0p-53;
}

uint64_t
sf_rng_below(sf_rng *rng, uint64_t n)
{
	/* Lemire's nearly divisionless method with 128-bit products. */
	unsigned __int128 m = (unsigned __int128) sf_rng_next(rng) * n;
	uint64_t	l = (uint64_t) m;

	if (n == 0)
		return 0;
	if (l < n)
	{
		uint64_t	t = (0 - n) % n;

		while (l < t)
		{
			m = (unsigned __int128) sf_rng_next(rng) * n;
			l = (uint64_t) m;
		}
	}
	return (uint64_t) (m >> 64);
}

double
sf_rng_normal(sf_rng *rng)
{
	double		u,
				v,
				s;

	do
	{
		u = 2.0 * sf_rng_uniform(rng) - 1.0;
		v = 2.0 * sf_rng_uniform(rng) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	return u * sqrt(-2.0 * log(s) / s);
}

void
sf_rng_jump(sf_rng *rng)
{
	static const uint64_t jump[] = {
		0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
		0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL
	};
	uint64_t	s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			i,
				b;

	for (i = 0; i < 4; i++)
		for (b = 0; b < 64; b++)
		{
			if (jump[i] & ((uint64_t) 1 << b))
			{
				s0 ^= rng->s[0];
				s1 ^= rng->s[1];
				s2 ^= rng->s[2];
				s3 ^= rng->s[3];
			}
			sf_rng_next(rng);
		}
	rng->s[0] = s0;
	rng->s[1] = s1;
	rng->s[2] = s2;
	rng->s[3] = s3;
}

void
sf_rng_shuffle_u32(sf_rng *rng, uint32_t *idx, uint32_t n)
{
	uint32_t	i;

	for (i = n; i > 1; i--)
	{
		uint32_t	j = (uint32_t) sf_rng_below(rng, i);
		uint32_t	t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}
