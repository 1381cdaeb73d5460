/*
 * qrgmm_levels.c
 *	  Fit the quantile regressions of every QRGMM level, in chains of
 *	  warm-started levels, on worker threads when env->threads > 1
 *	  (declared in qrgmm_levels.h, used by qrgmm.c).
 *
 * Levels 1..m-1 are cut into fixed chains of QRGMM_CHAIN consecutive
 * levels.  The first level of a chain starts cold, the others from the
 * level before; chains are independent, so the coefficients (and the model
 * bytes) are the same whatever the number of threads or their timing.
 *
 * Threads follow DESIGN.md: workers run pure numeric code only (the solver
 * allocates nothing), block every signal (the mask is set before they are
 * created), take chains from an atomic counter, and are joined before
 * return.  The calling thread does no numeric work: it polls the host's
 * interrupt callback every few milliseconds, and on a cancel raises a flag
 * the workers check between interior-point iterations, joins them, and
 * returns SF_ECANCEL.  So the host's callback must not longjmp while
 * workers run; the PostgreSQL wrapper passes a non-throwing one for this
 * reason and processes the interrupt afterwards.
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "scfrisk/quantreg.h"
#include "qrgmm_levels.h"

typedef struct LevelShared
{
	const qrgmm_levels_job *job;
	atomic_int	next_chain;		/* next chain to take */
	int			n_chains;
	atomic_int	cancel;			/* set on interrupt or on the first error */
	atomic_int	running;		/* workers not yet finished */
	atomic_int	chains_done;	/* chains fitted, for progress reports */
	pthread_mutex_t lock;		/* guards status and msg */
	sf_status	status;			/* first error */
	char		msg[256];
} LevelShared;

typedef struct LevelWorker
{
	LevelShared *sh;
	sf_qr_work *work;
	double	   *beta;			/* (p) */
	double	   *prev;			/* (p) */
	sf_env		env;			/* private: interrupt = the shared cancel flag */
	pthread_t	tid;
	int			started;
} LevelWorker;

/* Fit the levels of one chain with one workspace. */
static sf_status
fit_chain(const qrgmm_levels_job *job, sf_env *env, sf_qr_work *work, double *beta,
		  double *prev, int chain)
{
	int			first = chain * QRGMM_CHAIN + 1;
	int			last = first + QRGMM_CHAIN - 1;
	int			j;
	int			p = job->p;

	if (last > job->m - 1)
		last = job->m - 1;
	for (j = first; j <= last; j++)
	{
		sf_qr_info info;
		double		tau = (double) j / (double) job->m;
		const double *warm = j > first ? prev : NULL;
		sf_status	st;

		if (job->preprocess)
			st = sf_qr_solve_pk(env, work, job->design, job->y, job->n, p, tau, warm,
								&job->opt, job->seed + (uint64_t) chain, beta, &info);
		else
			st = sf_qr_solve(env, work, job->design, job->y, job->n, p, tau, warm,
							 &job->opt, beta, &info);
		if (st != SF_OK)
			return st;
		memcpy(prev, beta, sizeof(double) * p);
		sf_qr_unstandardize(p, job->center, job->scale, job->y_center, job->y_scale, beta);
		memcpy(job->coef + (size_t) (j - 1) * p, beta, sizeof(double) * p);
		job->iterations[j - 1] = (uint32_t) info.iterations;
		job->gaps[j - 1] = info.gap;
	}
	return SF_OK;
}

static int
cancel_check(void *ctx)
{
	return atomic_load((atomic_int *) ctx) != 0;
}

static void *
worker_main(void *arg)
{
	LevelWorker *w = arg;
	LevelShared *sh = w->sh;

	for (;;)
	{
		int			c = atomic_fetch_add(&sh->next_chain, 1);
		sf_status	st;

		if (c >= sh->n_chains || atomic_load(&sh->cancel))
			break;
		st = fit_chain(sh->job, &w->env, w->work, w->beta, w->prev, c);
		if (st == SF_OK)
			atomic_fetch_add(&sh->chains_done, 1);
		if (st != SF_OK)
		{
			pthread_mutex_lock(&sh->lock);
			if (sh->status == SF_OK)
			{
				sh->status = st;
				strncpy(sh->msg, w->env.msg ? w->env.msg : "", sizeof(sh->msg) - 1);
			}
			pthread_mutex_unlock(&sh->lock);
			atomic_store(&sh->cancel, 1);
			break;
		}
	}
	atomic_fetch_sub(&sh->running, 1);
	return NULL;
}

/* Progress: the levels of the first 'chains' chains are fitted. */
static void
report_levels(sf_env *env, const qrgmm_levels_job *job, int chains)
{
	int			levels = chains * QRGMM_CHAIN;

	if (levels > job->m - 1)
		levels = job->m - 1;
	sf_progress_report(env, "level", levels, job->m - 1, 0, NULL, NAN, NAN);
}

static sf_status
alloc_worker(sf_env *env, const qrgmm_levels_job *job, sf_qr_work **work, double **beta,
			 double **prev)
{
	sf_status	st = sf_qr_work_new(env, job->n, job->p, work);

	if (st != SF_OK)
		return st;
	if (job->preprocess)
	{
		st = sf_qr_pk_prepare(env, *work, job->design, job->n, job->p);
		if (st != SF_OK)
			return st;
	}
	*beta = sf_malloc(env, sizeof(double) * job->p);
	*prev = sf_malloc(env, sizeof(double) * job->p);
	if (*beta == NULL || *prev == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the quantile-regression levels");
	return SF_OK;
}

sf_status
qrgmm_fit_levels(sf_env *env, const qrgmm_levels_job *job)
{
	int			n_chains = (job->m - 1 + QRGMM_CHAIN - 1) / QRGMM_CHAIN;
	int			T = env->threads < 1 ? 1 : env->threads;
	LevelShared sh;
	LevelWorker *workers;
	sigset_t	all,
				old;
	sf_status	st = SF_OK;
	int			i,
				c,
				reported = 0;

	if (T > n_chains)
		T = n_chains;
	if (T <= 1)
	{
		/* one thread: the same chains in order, in the calling thread */
		sf_qr_work *work = NULL;
		double	   *beta = NULL,
				   *prev = NULL;

		st = alloc_worker(env, job, &work, &beta, &prev);
		for (c = 0; st == SF_OK && c < n_chains; c++)
		{
			st = fit_chain(job, env, work, beta, prev, c);
			if (st == SF_OK)
				report_levels(env, job, c + 1);
		}
		sf_qr_work_free(env, work);
		sf_free(env, beta);
		sf_free(env, prev);
		return st;
	}

	workers = sf_calloc(env, (size_t) T, sizeof(LevelWorker));
	if (workers == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for %d worker threads", T);
	memset(&sh, 0, sizeof(sh));
	sh.job = job;
	sh.n_chains = n_chains;
	atomic_init(&sh.next_chain, 0);
	atomic_init(&sh.cancel, 0);
	atomic_init(&sh.running, 0);
	atomic_init(&sh.chains_done, 0);
	pthread_mutex_init(&sh.lock, NULL);
	sh.status = SF_OK;

	/* every allocation happens here, in the calling thread */
	for (i = 0; i < T && st == SF_OK; i++)
	{
		workers[i].sh = &sh;
		st = alloc_worker(env, job, &workers[i].work, &workers[i].beta, &workers[i].prev);
		workers[i].env = *env;
		workers[i].env.alloc.alloc = NULL;	/* workers never allocate */
		workers[i].env.interrupt.check = cancel_check;
		workers[i].env.interrupt.ctx = &sh.cancel;
		workers[i].env.msg = NULL;
		workers[i].env.progress.report = NULL;	/* reports come from this thread */
	}

	if (st == SF_OK)
	{
		/* workers inherit a mask blocking every signal */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		for (i = 0; i < T; i++)
		{
			atomic_fetch_add(&sh.running, 1);
			if (pthread_create(&workers[i].tid, NULL, worker_main, &workers[i]) != 0)
			{
				atomic_fetch_sub(&sh.running, 1);
				break;
			}
			workers[i].started = 1;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (i == 0)
			st = sf_fail(env, SF_ELIMIT, "could not start worker threads (set scfrisk.threads = 1)");

		/* poll the host's interrupt callback until the workers finish */
		while (atomic_load(&sh.running) > 0)
		{
			struct timespec ts = {0, 5000000};
			int			done = atomic_load(&sh.chains_done);

			nanosleep(&ts, NULL);
			if (done > reported && !atomic_load(&sh.cancel))
			{
				report_levels(env, job, done);
				reported = done;
			}
			if (!atomic_load(&sh.cancel) && sf_interrupted(env))
			{
				atomic_store(&sh.cancel, 1);
				pthread_mutex_lock(&sh.lock);
				if (sh.status == SF_OK)
				{
					sh.status = SF_ECANCEL;
					strncpy(sh.msg, "quantile regression canceled", sizeof(sh.msg) - 1);
				}
				pthread_mutex_unlock(&sh.lock);
			}
		}
		for (i = 0; i < T; i++)
			if (workers[i].started)
				pthread_join(workers[i].tid, NULL);
		/* the chains that finished after the last poll */
		if (sh.status == SF_OK && atomic_load(&sh.chains_done) > reported)
			report_levels(env, job, atomic_load(&sh.chains_done));
		if (st == SF_OK && sh.status != SF_OK)
			st = sf_fail(env, sh.status, "%s", sh.msg);
	}
	pthread_mutex_destroy(&sh.lock);
	for (i = 0; i < T; i++)
	{
		sf_qr_work_free(env, workers[i].work);
		sf_free(env, workers[i].beta);
		sf_free(env, workers[i].prev);
	}
	sf_free(env, workers);
	return st;
}
