/*
 * pool.c
 *	  The worker pool of the numeric cores (sf_pool.h).
 *
 * A region starts its threads, hands out task indices with an atomic
 * counter, and joins every thread before it returns: no thread outlives a
 * call, so a backend never forks or errors out with a worker running (the
 * history behind DESIGN.md's thread rules: OpenBLAS#294, postgresml#1161).
 * Workers start with every signal blocked, so signals stay with the host's
 * thread.  Each worker gets a private sf_env whose allocator fails and whose
 * interrupt callback reads the region's cancel flag: the host's callback
 * (which in the server throws) is only ever called by the calling thread, and
 * only in SF_POOL_LONG regions while it is not running a task.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "scfrisk/sf_pool.h"

typedef struct pool_region
{
	sf_task_fn	fn;
	void	   *ctx;
	int			n_tasks;
	atomic_int	next;			/* next task to hand out */
	atomic_int	cancel;			/* set by the first failure or an interrupt */
	atomic_int	running;		/* worker threads not yet finished */
	atomic_int	done;			/* tasks finished */
	pthread_mutex_t lock;		/* guards status and failure */
	sf_status	status;			/* first failure */
	sf_env		failure;		/* its message, detail and hint */
} pool_region;

typedef struct pool_worker
{
	pool_region *r;
	int			slot;
	sf_env		env;			/* private: fails to allocate, interrupt = cancel flag */
	pthread_t	tid;
} pool_worker;

static void *
no_alloc(void *ctx, size_t size)
{
	return NULL;
}

static void
no_free(void *ctx, void *ptr)
{
}

static int
cancel_check(void *ctx)
{
	return atomic_load((atomic_int *) ctx) != 0;
}

/* Record the first failure of the region and stop handing out tasks. */
static void
region_fail(pool_region *r, sf_status st, const sf_env *env)
{
	pthread_mutex_lock(&r->lock);
	if (r->status == SF_OK)
	{
		r->status = st;
		sf_env_copy_failure(&r->failure, env);
	}
	pthread_mutex_unlock(&r->lock);
	atomic_store(&r->cancel, 1);
}

static void
worker_loop(pool_worker *w)
{
	pool_region *r = w->r;

	for (;;)
	{
		int			t = atomic_fetch_add(&r->next, 1);
		sf_status	st;

		if (t >= r->n_tasks || atomic_load(&r->cancel))
			break;
		w->env.msg = NULL;
		st = r->fn(r->ctx, t, w->slot, &w->env);
		if (st != SF_OK)
		{
			region_fail(r, st, &w->env);
			break;
		}
		atomic_fetch_add(&r->done, 1);
	}
}

static void *
worker_main(void *arg)
{
	pool_worker *w = arg;

	worker_loop(w);
	atomic_fetch_sub(&w->r->running, 1);
	return NULL;
}

int
sf_pool_workers(const sf_env *env, int n_tasks)
{
	int			t = env->threads < 1 ? 1 : env->threads;

	if (t > SF_POOL_MAX_THREADS)
		t = SF_POOL_MAX_THREADS;
	if (t > n_tasks)
		t = n_tasks < 1 ? 1 : n_tasks;
	return t;
}

/*
 * Poll the host's interrupt callback until every worker thread finished,
 * reporting progress as tasks finish.
 */
static void
poll_host(sf_env *env, pool_region *r, sf_pool_progress_fn progress, int *reported)
{
	while (atomic_load(&r->running) > 0)
	{
		struct timespec ts = {0, 5000000};
		int			done;

		nanosleep(&ts, NULL);
		done = atomic_load(&r->done);
		if (progress && done > *reported && !atomic_load(&r->cancel))
		{
			progress(r->ctx, env, done);
			*reported = done;
		}
		if (!atomic_load(&r->cancel) && sf_interrupted(env))
		{
			sf_env		canceled = {.msg = "canceled"};

			region_fail(r, SF_ECANCEL, &canceled);
		}
	}
}

/* Every task in order, in the calling thread, with the host's env (slot 0). */
static sf_status
run_here(sf_env *env, int n_tasks, sf_task_fn fn, void *ctx, sf_pool_progress_fn progress)
{
	int			t;

	for (t = 0; t < n_tasks; t++)
	{
		sf_status	st = fn(ctx, t, 0, env);

		if (st != SF_OK)
			return st;
		if (progress)
			progress(ctx, env, t + 1);
	}
	return SF_OK;
}

sf_status
sf_pool_run(sf_env *env, sf_pool_mode mode, int n_tasks, sf_task_fn fn, void *ctx,
			sf_pool_progress_fn progress)
{
	pool_region r;
	pool_worker w[SF_POOL_MAX_THREADS];
	int			nw = sf_pool_workers(env, n_tasks);
	int			first_thread = mode == SF_POOL_SHORT ? 1 : 0;
	int			started = 0;
	int			reported = 0;
	sigset_t	all,
				old;
	int			i;

	if (n_tasks <= 0)
		return SF_OK;
	if (nw == 1)
		return run_here(env, n_tasks, fn, ctx, progress);

	memset(&r, 0, sizeof(r));
	r.fn = fn;
	r.ctx = ctx;
	r.n_tasks = n_tasks;
	atomic_init(&r.next, 0);
	atomic_init(&r.cancel, 0);
	atomic_init(&r.running, 0);
	atomic_init(&r.done, 0);
	pthread_mutex_init(&r.lock, NULL);
	r.status = SF_OK;
	for (i = 0; i < nw; i++)
	{
		w[i].r = &r;
		w[i].slot = i;
		w[i].env = *env;
		w[i].env.alloc.alloc = no_alloc;
		w[i].env.alloc.free = no_free;
		w[i].env.interrupt.check = cancel_check;
		w[i].env.interrupt.ctx = &r.cancel;
		w[i].env.progress.report = NULL;	/* progress comes from the calling thread */
		w[i].env.threads = 1;
		w[i].env.msg = NULL;
	}

	/* threads inherit a mask blocking every signal */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = first_thread; i < nw; i++)
	{
		atomic_fetch_add(&r.running, 1);
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
		{
			atomic_fetch_sub(&r.running, 1);
			break;				/* fewer threads: the same results */
		}
		started = i + 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (mode == SF_POOL_SHORT)
		worker_loop(&w[0]);		/* the calling thread is worker 0 */
	else if (started > 0)
		poll_host(env, &r, progress, &reported);
	for (i = first_thread; i < started; i++)
		pthread_join(w[i].tid, NULL);
	pthread_mutex_destroy(&r.lock);
	if (r.status != SF_OK)
	{
		sf_env_copy_failure(env, &r.failure);
		return r.status;
	}
	if (mode == SF_POOL_LONG && started == 0)
		return run_here(env, n_tasks, fn, ctx, progress);	/* no thread could start */
	if (progress && atomic_load(&r.done) > reported)
		progress(ctx, env, atomic_load(&r.done));	/* tasks that finished after the last poll */
	return SF_OK;
}
