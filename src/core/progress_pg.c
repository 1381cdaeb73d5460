/*
 * progress_pg.c
 *	  NOTICE lines for the "verbose" parameter of the trainers.
 *
 * A core reports every step of its main loop (sf_progress_report); showing
 * every one would flood a client with thousands of lines, so the first step,
 * the last one and then at most one step a second are shown.  The time left
 * is the mean time per step so far times the steps still to run: an estimate
 * for loops that run all their steps, an upper bound for those that may stop
 * early (early stopping, convergence), which the line says.  A call may run
 * several loops (the hybrid: trees, then network); each has its own clock.
 * The clock of the first loop starts at SfProgressStart (the first step
 * included); a later loop's at its first step.  A step held back by the rate
 * is shown when its loop ends there (early stopping, convergence): at the
 * next loop's first step or at SfProgressFinish, marked "done".
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "scfrisk_pg.h"
#include "sf_progress_pg.h"

#define SF_PROGRESS_INTERVAL 1.0	/* seconds between two lines, at least */

void
SfProgressStart(sf_env *env, SfProgressState *st, const char *what, bool verbose)
{
	memset(st, 0, sizeof(*st));
	st->what = verbose ? what : NULL;
	INSTR_TIME_SET_CURRENT(st->start);
	st->last = st->start;
	env->progress.report = verbose ? SfProgressNotice : NULL;
	env->progress.ctx = verbose ? st : NULL;
}

/* Show one step; final: the loop ended there (no time left, "done"). */
static void
ShowStep(SfProgressState *st, const sf_progress *pr, instr_time now, bool final)
{
	instr_time	elapsed = now;
	double		secs;
	StringInfoData msg;

	INSTR_TIME_SUBTRACT(elapsed, st->start);
	secs = INSTR_TIME_GET_DOUBLE(elapsed);
	initStringInfo(&msg);
	appendStringInfo(&msg, "%s: %s %d/%d", st->what, pr->step_name, pr->step, pr->n_steps);
	if (pr->loss_name != NULL && !isnan(pr->loss))
		appendStringInfo(&msg, ", %s %.6g", pr->loss_name, pr->loss);
	if (!isnan(pr->valid))
		appendStringInfo(&msg, ", validation %.6g", pr->valid);
	appendStringInfo(&msg, ", %.1f s elapsed", secs);
	if (final && pr->step < pr->n_steps)
		appendStringInfoString(&msg, ", done");
	else if (pr->step < pr->n_steps)
		appendStringInfo(&msg, pr->may_stop_early ? ", at most %.1f s left" : ", about %.1f s left",
						 secs / pr->step * (pr->n_steps - pr->step));
	ereport(NOTICE, (errmsg_internal("%s", msg.data)));
	pfree(msg.data);
	st->last = now;
	st->shown = true;
	st->has_pending = false;
}

void
SfProgressNotice(void *ctx, const sf_progress *pr)
{
	SfProgressState *st = ctx;
	instr_time	now,
				since_last;

	INSTR_TIME_SET_CURRENT(now);
	/* a new loop (the hybrid's network after its trees): its own clock */
	if (st->loop == NULL || strcmp(st->loop, pr->step_name) != 0 || pr->step <= st->prev_step)
	{
		if (st->has_pending)
			ShowStep(st, &st->pending, now, true);
		st->start = st->loop == NULL ? st->start : now;
		st->shown = false;
		st->loop = pr->step_name;
	}
	st->prev_step = pr->step;
	since_last = now;
	INSTR_TIME_SUBTRACT(since_last, st->last);
	if (st->shown && pr->step < pr->n_steps &&
		INSTR_TIME_GET_DOUBLE(since_last) < SF_PROGRESS_INTERVAL)
	{
		/* not now; shown at the end if the loop stops here */
		st->pending = *pr;
		st->has_pending = true;
		return;
	}
	ShowStep(st, pr, now, false);
}

void
SfProgressFinish(SfProgressState *st)
{
	instr_time	now;

	if (st->what == NULL || !st->has_pending)
		return;
	INSTR_TIME_SET_CURRENT(now);
	ShowStep(st, &st->pending, now, true);
}

MemoryContext
SfFitBegin(sf_env *env, SfProgressState *progress, const char *what, bool verbose, bool nothrow,
		   MemoryContext *old)
{
	MemoryContext fitcxt = AllocSetContextCreate(CurrentMemoryContext, "scfrisk fit",
												 ALLOCSET_DEFAULT_SIZES);

	MemoryContextSetIdentifier(fitcxt, what);
	*old = MemoryContextSwitchTo(fitcxt);
	if (nothrow)
		SfEnvInitNoThrow(env, fitcxt);
	else
		SfEnvInit(env, fitcxt);
	SfProgressStart(env, progress, what, verbose);
	return fitcxt;
}
