/*
 * sf_pool.h
 *	  The one worker pool of the numeric cores (trees' histograms and
 *	  partitions, DeepFM's batch shards, QRGMM's quantile levels).
 *
 * Threads follow DESIGN.md: they are started and joined inside one call,
 * block every signal, never allocate and never call the host (PostgreSQL);
 * the pool itself allocates nothing.  Tasks are handed out in index order by
 * an atomic counter; a task must write only its own outputs (or its worker's
 * scratch), so results never depend on the thread count or the schedule.
 */
#ifndef SCFRISK_SF_POOL_H
#define SCFRISK_SF_POOL_H

#include "scfrisk/sf_core.h"

#define SF_POOL_MAX_THREADS 64

/*
 * One task: index task in [0, n_tasks), run by worker slot 'worker' in
 * [0, sf_pool_workers()).  env is the worker's: allocation fails (returns
 * NULL) and its interrupt callback reports the pool's cancel flag.  A non-OK
 * status (with its message set through env) stops the region.
 */
typedef sf_status (*sf_task_fn) (void *ctx, int task, int worker, sf_env *env);

typedef enum sf_pool_mode
{
	/*
	 * Short tasks (well under the ~10 ms interrupt latency): the calling
	 * thread works too, as worker 0, and no host interrupt is checked during
	 * the region.
	 */
	SF_POOL_SHORT = 0,
	/*
	 * Long tasks (seconds): the workers run every task while the calling
	 * thread polls the host's interrupt callback every 5 ms and, when it
	 * fires, cancels the tasks not yet finished (SF_ECANCEL).  Tasks should
	 * poll their env's interrupt callback.  The host's callback must then
	 * return rather than longjmp while workers run: a PostgreSQL wrapper
	 * passes a non-throwing one and runs CHECK_FOR_INTERRUPTS afterwards.
	 */
	SF_POOL_LONG = 1
} sf_pool_mode;

/*
 * Progress of a region: tasks_done tasks have finished.  Called only from the
 * calling thread (after each task with one slot; while polling in a
 * SF_POOL_LONG region; once at the end), with the host's env, so it may
 * report through env->progress.
 */
typedef void (*sf_pool_progress_fn) (void *ctx, sf_env *env, int tasks_done);

/*
 * Worker slots a region of n_tasks would use with env->threads (1 ..
 * SF_POOL_MAX_THREADS, never more than n_tasks): size per-worker scratch
 * with it before the region.
 */
extern int	sf_pool_workers(const sf_env *env, int n_tasks);

/*
 * Run fn(ctx, t, worker, task_env) for every t in [0, n_tasks), and
 * progress(ctx, env, done) as tasks finish when progress is not NULL.  With one
 * worker slot the tasks run in order in the calling thread with env itself
 * (host interrupts and allocation as usual).  Returns SF_OK, or the first
 * failing task's status with its message in env (later tasks are not
 * started), or SF_ECANCEL when the host interrupted a SF_POOL_LONG region.
 * Fewer threads than asked (pthread_create failing) give the same results.
 */
extern sf_status sf_pool_run(sf_env *env, sf_pool_mode mode, int n_tasks, sf_task_fn fn,
							 void *ctx, sf_pool_progress_fn progress);

#endif							/* SCFRISK_SF_POOL_H */
