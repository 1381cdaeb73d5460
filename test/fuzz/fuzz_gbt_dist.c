/*
 * fuzz_gbt_dist.c
 *	  libFuzzer target for the byte messages of sharded tree training
 *	  (gbt_dist.h), which a shard and the coordinator read from each other:
 *	  the input is the first job of a training for a shard holding eight
 *	  fixed rows of width 3 (one missing value), then (when it is answered)
 *	  the same bytes as the second job, and the same bytes as a shard's
 *	  sketch merged after a real one.  Any byte string must be answered or refused with a status
 *	  and a message, never read out of bounds.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/gbt_dist.h"
#include "../../src/trees/gbt_dist_int.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double x[24] = {0, 1, 2, 1, 0, 3, 2, 2, NAN, 3, 1, 0, -1, 5, 2, 4, 4, 1, 0.5, 0, 0, 7, 1, 1};
	static const double y[8] = {0, 1, 0, 1, 1, 0, 1, 0};
	sf_env		env;
	sf_buf		out,
				sk;
	sf_status	st;
	gbt_dist_shard *sh = NULL;
	gbt_bins	b;
	dist_totals tot;
	const uint8_t *bufs[2];
	size_t		lens[2];
	int			k;

	sf_env_init_malloc(&env);
	sf_buf_init(&out, &env);
	if (gbt_dist_shard_new(&env, x, y, NULL, 8, 3, &sh) != SF_OK)
		abort();
	/* twice: a refused job ends the session, an answered one moves it on */
	for (k = 0; k < 2; k++)
	{
		out.len = 0;
		st = gbt_dist_shard_step(&env, sh, data, size, &out);
		if (st != SF_OK && env.msg == NULL)
			abort();
	}
	gbt_dist_shard_free(&env, sh);
	sf_buf_free(&out);

	sf_buf_init(&sk, &env);
	if (gbt_dist_sketch(&env, x, y, NULL, 8, 3, &sk) != SF_OK)
		abort();
	bufs[0] = sk.data;
	lens[0] = sk.len;
	bufs[1] = data;
	lens[1] = size;
	st = gbt_dist_merge_sketches(&env, bufs, lens, 2, 4, &tot, &b);
	if (st != SF_OK && env.msg == NULL)
		abort();
	gbt_bins_free(&env, &b);
	sf_buf_free(&sk);
	return 0;
}
