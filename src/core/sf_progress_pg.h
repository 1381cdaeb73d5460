/*
 * sf_progress_pg.h
 *	  Training progress as NOTICE lines: the server's listener of
 *	  sf_progress_report (include/scfrisk/sf_core.h), turned on by a
 *	  trainer's "verbose" parameter.
 */
#ifndef SF_PROGRESS_PG_H
#define SF_PROGRESS_PG_H

#include "postgres.h"
#include "portability/instr_time.h"
#include "scfrisk/sf_core.h"

/* One training call's progress: lives on the wrapper's stack for the call. */
typedef struct SfProgressState
{
	const char *what;			/* the trainer, first word of every line */
	instr_time	start;
	instr_time	last;			/* when the last line was shown */
	bool		shown;
	const char *loop;			/* step name of the loop running */
	int			prev_step;
	sf_progress pending;		/* the last step held back by the rate */
	bool		has_pending;
} SfProgressState;

/*
 * With verbose, make env report to NOTICE lines prefixed with what: the first
 * step, then at most about one line a second, and the last step; each with
 * the step, the losses, the time elapsed and an estimate of the time left.
 */
extern void SfProgressStart(sf_env *env, SfProgressState *st, const char *what, bool verbose);

/* The listener itself, for wrappers that translate another core's report. */
extern void SfProgressNotice(void *ctx, const sf_progress *pr);

/* After the fit: show the last step if the rate held it back. */
extern void SfProgressFinish(SfProgressState *st);

/*
 * The start of a training aggregate's fit: a fit context (a child of the
 * current one, "scfrisk fit" identified by what) made current, env set up
 * on it (SfEnvInitNoThrow when nothrow: a core running worker threads
 * that must be joined), progress started when verbose.  Returns the fit
 * context; *old gets the caller's.
 */
extern MemoryContext SfFitBegin(sf_env *env, SfProgressState *progress, const char *what,
								bool verbose, bool nothrow, MemoryContext *old);

#endif							/* SF_PROGRESS_PG_H */
