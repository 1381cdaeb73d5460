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
 * Chains are long tasks of the cores' pool (src/core/pool.c, SF_POOL_LONG):
 * workers run pure numeric code on scratch allocated here beforehand, one
 * workspace per worker slot, take chains in order from the pool's counter,
 * and are joined before return.  The calling thread does no numeric work: it
 * polls the host's interrupt callback every few milliseconds, and on a
 * cancel raises the flag the workers' solvers check between interior-point
 * iterations.  So the host's callback must not longjmp while workers run;
 * the PostgreSQL wrapper passes a non-throwing one for this reason and
 * processes the interrupt afterwards.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/quantreg.h"
#include "scfrisk/sf_pool.h"
#include "qrgmm_levels.h"

/* The scratch of one worker slot. */
typedef struct level_slot
{
	sf_qr_work *work;
	double	   *beta;			/* (p) */
	double	   *prev;			/* (p) */
} level_slot;

typedef struct level_region
{
	const qrgmm_levels_job *job;
	level_slot *slots;			/* one per worker slot */
} level_region;

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

static sf_status
chain_task(void *ctx, int chain, int worker, sf_env *env)
{
	level_region *r = ctx;
	level_slot *s = &r->slots[worker];

	return fit_chain(r->job, env, s->work, s->beta, s->prev, chain);
}

/* Progress: 'chains' chains fitted, reported as levels. */
static void
report_levels(void *ctx, sf_env *env, int chains)
{
	const qrgmm_levels_job *job = ((level_region *) ctx)->job;
	int			levels = chains * QRGMM_CHAIN;

	if (levels > job->m - 1)
		levels = job->m - 1;
	sf_progress_report(env, "level", levels, job->m - 1, 0, NULL, NAN, NAN);
}

static sf_status
alloc_slot(sf_env *env, const qrgmm_levels_job *job, level_slot *s)
{
	sf_status	st = sf_qr_work_new(env, job->n, job->p, &s->work);

	if (st != SF_OK)
		return st;
	if (job->preprocess)
	{
		st = sf_qr_pk_prepare(env, s->work, job->design, job->n, job->p);
		if (st != SF_OK)
			return st;
	}
	s->beta = sf_malloc(env, sizeof(double) * job->p);
	s->prev = sf_malloc(env, sizeof(double) * job->p);
	if (s->beta == NULL || s->prev == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for the quantile-regression levels");
	return SF_OK;
}

sf_status
qrgmm_fit_levels(sf_env *env, const qrgmm_levels_job *job)
{
	int			n_chains = (job->m - 1 + QRGMM_CHAIN - 1) / QRGMM_CHAIN;
	int			nw = sf_pool_workers(env, n_chains);
	level_region r;
	sf_status	st = SF_OK;
	int			i;

	r.job = job;
	r.slots = sf_calloc(env, (size_t) nw, sizeof(level_slot));
	if (r.slots == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for %d worker slots", nw);
	/* every allocation happens here, in the calling thread */
	for (i = 0; i < nw && st == SF_OK; i++)
		st = alloc_slot(env, job, &r.slots[i]);
	if (st == SF_OK)
		st = sf_pool_run(env, SF_POOL_LONG, n_chains, chain_task, &r, report_levels);
	for (i = 0; i < nw; i++)
	{
		sf_qr_work_free(env, r.slots[i].work);
		sf_free(env, r.slots[i].beta);
		sf_free(env, r.slots[i].prev);
	}
	sf_free(env, r.slots);
	return st;
}
