/*
 * test_core.c
 *	  Unit tests of sf_core: status names, the malloc environment, size
 *	  overflow guards, formatted failure messages, and the interrupt callback.
 */
#include <string.h>

#include "scfrisk/sf_core.h"
#include "sf_test.h"

static int	polls = 0;

static int
stop_after_three(void *ctx)
{
	(void) ctx;
	return ++polls >= 3;
}

SF_TEST(test_status)
{
	SF_OK(strcmp(sf_status_name(SF_ECORRUPT), "SF_ECORRUPT") == 0, "status name");
	SF_OK(SF_OK == 0, "SF_OK is zero");
}

SF_TEST(test_alloc)
{
	sf_env		env;
	size_t		out = 0;
	unsigned char *p;
	int			zero = 1,
				i;

	sf_env_init_malloc(&env);
	p = sf_calloc(&env, 100, 3);
	for (i = 0; i < 300; i++)
		zero &= p[i] == 0;
	SF_OK(p != NULL && zero, "calloc zeroes");
	sf_free(&env, p);
	sf_free(&env, NULL);
	SF_OK(sf_calloc(&env, SIZE_MAX / 2, 4) == NULL, "calloc refuses an overflowing size");
	SF_OK(!sf_mul_size(SIZE_MAX, 2, &out) && out == 0, "mul_size detects overflow");
	SF_OK(sf_mul_size(1000, 1000, &out) && out == 1000000, "mul_size multiplies");
}

SF_TEST(test_fail_and_interrupt)
{
	sf_env		env;
	int			i,
				stopped_at = -1;

	sf_env_init_malloc(&env);
	SF_OK(sf_fail(&env, SF_EDATA, "row %d has %s", 7, "NaN") == SF_EDATA &&
		  strcmp(env.msg, "row 7 has NaN") == 0, "sf_fail formats: %s", env.msg);
	SF_OK(!sf_interrupted(&env), "no callback, no interrupt");
	env.interrupt.check = stop_after_three;
	for (i = 0; i < 10; i++)
		if (sf_interrupted(&env))
		{
			stopped_at = i;
			break;
		}
	SF_OK(stopped_at == 2, "interrupt callback stops the loop (at %d)", stopped_at);
}

int
main(void)
{
	SF_RUN(test_status);
	SF_RUN(test_alloc);
	SF_RUN(test_fail_and_interrupt);
	return sf_test_done();
}
