/*
 * fuzz_logreg_dist.c
 *	  libFuzzer target for the byte messages of sharded logistic regression
 *	  (logreg_dist.h), which a shard and the coordinator read from each
 *	  other: the input is a job for a shard holding six fixed rows of width 2,
 *	  then the same bytes as a reply of each kind, and as a shard's summary
 *	  merged after a real one.  Any byte string must be answered or refused
 *	  with a status and a message, never read out of bounds.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/logreg_dist.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double x[12] = {0, 1, 2, 1, 0, 3, 2, 2, -1, 3, 1, 0};
	static const double y[6] = {0, 1, 0, 1, 1, 0};
	sf_env		env;
	sf_buf		out,
				sum;
	logreg_dist_shard sh;
	logreg_dist_totals tot;
	const uint8_t *bufs[2];
	size_t		lens[2];
	double		reply[1 + 3 + 6];
	int			op;

	sf_env_init_malloc(&env);
	sf_buf_init(&out, &env);
	sf_buf_init(&sum, &env);
	if (logreg_dist_shard_init(&env, x, y, 6, 2, &sh) != SF_OK)
		abort();
	/* as a job */
	if (logreg_dist_shard_step(&env, &sh, data, size, &out) == SF_OK)
	{
		if (out.len < 5)
			abort();
	}
	else if (env.msg == NULL)
		abort();
	/* as a reply of each kind (k = 3: gradient 3, Hessian triangle 6) */
	for (op = LOGREG_DIST_LOSS; op <= LOGREG_DIST_LOSS_GRAD; op++)
	{
		size_t		count = op == LOGREG_DIST_LOSS ? 1 : op == LOGREG_DIST_GRAD ? 9
			: op == LOGREG_DIST_LOSS_GRAD ? 10 : 0;

		if (logreg_dist_read_reply(&env, data, size, op, count, reply) != SF_OK && env.msg == NULL)
			abort();
	}
	/* as a summary after a real one */
	logreg_dist_summary(&sh, &sum);
	bufs[0] = sum.data;
	lens[0] = sum.len;
	bufs[1] = data;
	lens[1] = size;
	if (logreg_dist_merge(&env, bufs, lens, 2, &tot) == SF_OK)
	{
		if (tot.d != 2 || tot.n < 6 || tot.pos > tot.n)
			abort();
		logreg_dist_totals_free(&env, &tot);
	}
	sf_buf_free(&out);
	sf_buf_free(&sum);
	return 0;
}
