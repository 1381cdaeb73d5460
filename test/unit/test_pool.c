/*
 * test_pool.c
 *	  Unit tests of the cores' worker pool (src/core/pool.c): every task runs
 *	  exactly once whatever the thread count, slots stay in range, the first
 *	  failure stops the region with its status and message, workers cannot
 *	  allocate, and a long region is canceled by the host's interrupt
 *	  callback (polled by the calling thread) with SF_ECANCEL.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "scfrisk/sf_pool.h"
#include "sf_test.h"

#define N_TASKS 1000

typedef struct count_ctx
{
	atomic_int	runs[N_TASKS];
	atomic_int	bad_slot;
	int			slots;
	int			fail_at;		/* task that fails, or -1 */
	atomic_int	alloc_ok;		/* a worker's allocation succeeded */
} count_ctx;

static sf_status
count_task(void *ctx, int task, int worker, sf_env *env)
{
	count_ctx  *c = ctx;

	atomic_fetch_add(&c->runs[task], 1);
	if (worker < 0 || worker >= c->slots)
		atomic_store(&c->bad_slot, 1);
	if (task == c->fail_at)
		return sf_fail_hint(env, SF_EDATA, "Fix the input.", "task %d refused its input", task);
	return SF_OK;
}

static int	progress_max;
static int	progress_calls;

static void
count_progress(void *ctx, sf_env *env, int done)
{
	if (done > progress_max)
		progress_max = done;
	progress_calls++;
}

static sf_status
alloc_task(void *ctx, int task, int worker, sf_env *env)
{
	count_ctx  *c = ctx;
	void	   *p = sf_malloc(env, 64);

	/* the single-slot region runs with the host's env, which may allocate */
	if (p != NULL && c->slots > 1)
		atomic_store(&c->alloc_ok, 1);
	sf_free(env, p);
	return SF_OK;
}

SF_TEST(test_every_task_once)
{
	int			threads,
				mode,
				t;

	for (mode = 0; mode <= 1; mode++)
		for (threads = 1; threads <= 8; threads *= 2)
		{
			sf_env		env;
			count_ctx  *c = calloc(1, sizeof(count_ctx));
			int			once = 1;

			sf_env_init_malloc(&env);
			env.threads = threads;
			c->slots = sf_pool_workers(&env, N_TASKS);
			c->fail_at = -1;
			progress_max = progress_calls = 0;
			SF_OK(sf_pool_run(&env, (sf_pool_mode) mode, N_TASKS, count_task, c, count_progress) == SF_OK,
				  "mode %d, %d threads: the region succeeds", mode, threads);
			SF_OK(progress_calls > 0 && progress_max == N_TASKS,
				  "mode %d, %d threads: progress reported up to every task (%d calls, max %d)", mode,
				  threads, progress_calls, progress_max);
			for (t = 0; t < N_TASKS; t++)
				once &= atomic_load(&c->runs[t]) == 1;
			SF_OK(once, "mode %d, %d threads: every task ran exactly once", mode, threads);
			SF_OK(!atomic_load(&c->bad_slot), "mode %d, %d threads: worker slots in [0, %d)", mode,
				  threads, c->slots);
			free(c);
		}
}

SF_TEST(test_first_failure_stops)
{
	int			threads;

	for (threads = 1; threads <= 4; threads *= 2)
	{
		sf_env		env;
		count_ctx  *c = calloc(1, sizeof(count_ctx));
		sf_status	st;

		sf_env_init_malloc(&env);
		env.threads = threads;
		c->slots = sf_pool_workers(&env, N_TASKS);
		c->fail_at = 10;
		st = sf_pool_run(&env, SF_POOL_SHORT, N_TASKS, count_task, c, NULL);
		SF_OK(st == SF_EDATA, "%d threads: the failing task's status comes back (%d)", threads, (int) st);
		SF_OK(env.msg && strstr(env.msg, "task 10 refused") != NULL, "%d threads: with its message (%s)",
			  threads, env.msg ? env.msg : "none");
		SF_OK(env.hint && strcmp(env.hint, "Fix the input.") == 0, "%d threads: and its hint (%s)",
			  threads, env.hint ? env.hint : "none");
		SF_OK(atomic_load(&c->runs[N_TASKS - 1]) == 0, "%d threads: later tasks are not started", threads);
		free(c);
	}
	SF_OK(sf_pool_workers(&(sf_env) {.threads = 500}, 10000) == SF_POOL_MAX_THREADS,
		  "threads are capped at SF_POOL_MAX_THREADS");
	SF_OK(sf_pool_workers(&(sf_env) {.threads = 8}, 3) == 3, "never more slots than tasks");
	SF_OK(sf_pool_workers(&(sf_env) {.threads = 0}, 3) == 1, "at least one slot");
}

SF_TEST(test_workers_cannot_allocate)
{
	sf_env		env;
	count_ctx  *c = calloc(1, sizeof(count_ctx));

	sf_env_init_malloc(&env);
	env.threads = 4;
	c->slots = sf_pool_workers(&env, 64);
	SF_OK(sf_pool_run(&env, SF_POOL_SHORT, 64, alloc_task, c, NULL) == SF_OK, "allocating tasks ran");
	SF_OK(!atomic_load(&c->alloc_ok), "a worker's allocation fails (returns NULL)");
	free(c);
}

/* A long task: spins on its env's interrupt callback (for 60 s at most). */
static sf_status
long_task(void *ctx, int task, int worker, sf_env *env)
{
	time_t		t0 = time(NULL);

	while (time(NULL) - t0 < 60)
		if (sf_interrupted(env))
			return sf_fail(env, SF_ECANCEL, "task %d canceled", task);
	atomic_fetch_add((atomic_int *) ctx, 1);	/* ran to its end: not canceled */
	return SF_OK;
}

static int	host_polls;

static int
host_cancel_after_ten(void *ctx)
{
	return ++host_polls >= 10;
}

SF_TEST(test_long_region_canceled)
{
	sf_env		env;
	atomic_int	finished = 0;

	sf_env_init_malloc(&env);
	env.threads = 2;
	env.interrupt.check = host_cancel_after_ten;
	SF_OK(sf_pool_run(&env, SF_POOL_LONG, 8, long_task, &finished, NULL) == SF_ECANCEL,
		  "a long region ends with SF_ECANCEL when the host interrupts");
	SF_OK(host_polls >= 10, "the calling thread polled the host (%d times)", host_polls);
	SF_OK(atomic_load(&finished) == 0, "no task ran to its end: the running ones saw the cancel, "
		  "the others were not started");
}

int
main(void)
{
	SF_RUN(test_every_task_once);
	SF_RUN(test_first_failure_stops);
	SF_RUN(test_workers_cannot_allocate);
	SF_RUN(test_long_region_canceled);
	return sf_test_done();
}
