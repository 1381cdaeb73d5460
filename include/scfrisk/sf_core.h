/*
 * sf_core.h
 *	  What every scfrisk core shares: status codes, the injected allocator and
 *	  the interrupt callback.
 *
 * Cores never include postgres.h.  They allocate through an sf_alloc, poll an
 * sf_interrupt in every loop that can run for more than a few milliseconds,
 * and report failure by returning an sf_status together with a static message
 * (liblinear's check_parameter habit).  In the server the allocator is palloc
 * in a dedicated memory context and the interrupt callback runs
 * CHECK_FOR_INTERRUPTS(); in unit tests and fuzzers they are malloc and a
 * no-op.  The wrapper helper SfReportStatus() (src/core/scfrisk_pg.h) maps each
 * status to an ereport with the right SQLSTATE.
 */
#ifndef SCFRISK_SF_CORE_H
#define SCFRISK_SF_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Outcome of a core call.  SF_OK is zero so "if (st) return st;" reads well. */
typedef enum sf_status
{
	SF_OK = 0,
	SF_EINVAL,					/* a hyperparameter or argument is out of range */
	SF_EDATA,					/* training or scoring data unusable (NaN, width, one class) */
	SF_ECORRUPT,				/* model bytes fail a check */
	SF_EVERSION,				/* model written by a newer format version */
	SF_EKIND,					/* model of another kind than the function expects */
	SF_ENOMEM,					/* the allocator returned NULL */
	SF_ELIMIT,					/* a configured or structural cap would be crossed */
	SF_ECANCEL,					/* the interrupt callback asked to stop */
	SF_ENUMERIC					/* a numerical method failed (singular system, no convergence) */
} sf_status;

/* Stable name of a status, for logs and tests ("SF_ECORRUPT"). */
extern const char *sf_status_name(sf_status st);

/*
 * Allocator injected into cores.  alloc returns NULL on failure (the server
 * version never returns: palloc throws).  free may be called with NULL.
 */
typedef struct sf_alloc
{
	void	   *(*alloc) (void *ctx, size_t size);	/* uninitialised memory */
	void		(*free) (void *ctx, void *ptr);
	void	   *ctx;			/* opaque, passed back to both */
} sf_alloc;

/*
 * Interrupt callback: returns non-zero when the core must stop and return
 * SF_ECANCEL.  In the server it never returns non-zero because
 * CHECK_FOR_INTERRUPTS() throws; tests use the return value.
 */
typedef struct sf_interrupt
{
	int			(*check) (void *ctx);
	void	   *ctx;
} sf_interrupt;

/*
 * Progress of a training loop (the "verbose" parameter of every trainer): a
 * core reports each step of its main loop with sf_progress_report; the host
 * decides what to show and how often (the server: NOTICE lines at most about
 * once a second, with the time left).  Called only from the calling thread.
 */
typedef struct sf_progress
{
	const char *step_name;		/* "epoch", "round", "iteration", "level" */
	int			step;			/* 1-based step just finished */
	int			n_steps;		/* the most steps the loop runs */
	int			may_stop_early; /* the loop may end before n_steps */
	const char *loss_name;		/* "loss", "objective", ...; NULL when none */
	double		loss;			/* training loss of the step, NaN when none */
	double		valid;			/* validation loss, NaN when none */
} sf_progress;

typedef struct sf_progress_cb
{
	void		(*report) (void *ctx, const sf_progress *pr);	/* NULL: quiet */
	void	   *ctx;
} sf_progress_cb;

/*
 * Everything a core call needs from its host, plus room for the message that
 * accompanies a non-OK status.  msg points at static text or at errbuf.
 * detail and hint, when not NULL, say more where the user can act (the
 * accepted range of a parameter, the cap and what to do about it); the
 * server passes them on as errdetail and errhint.
 */
typedef struct sf_env
{
	sf_alloc	alloc;
	sf_interrupt interrupt;
	sf_progress_cb progress;	/* training progress; report NULL when quiet */
	int			threads;		/* worker threads a numeric kernel may use, >= 1 */
	const char *msg;			/* message of the last non-OK status, or NULL */
	const char *detail;			/* its detail (facts), or NULL */
	const char *hint;			/* its hint (what to do), or NULL */
	char		errbuf[256];	/* storage for formatted messages */
	char		detailbuf[256];
	char		hintbuf[512];
} sf_env;

/* A malloc/free environment with no interrupts and one thread (tests, fuzzers). */
extern void sf_env_init_malloc(sf_env *env);

/* Allocation helpers: NULL on failure or on size overflow. */
extern void *sf_malloc(sf_env *env, size_t size);
extern void *sf_calloc(sf_env *env, size_t count, size_t size);
extern void sf_free(sf_env *env, void *ptr);

/*
 * Free several pointers at once, in argument order, NULL ones skipped:
 * "sf_free_all(env, m->a, m->b, m);" is the release of a struct that owns
 * its arrays (the struct itself last: the pointers are read before any is
 * freed).
 */
#define sf_free_all(env, ...) \
	sf_free_each((env), (const void *const[]) {__VA_ARGS__}, \
				 sizeof((const void *const[]) {__VA_ARGS__}) / sizeof(const void *))
extern void sf_free_each(sf_env *env, const void *const *ptrs, size_t n);

/*
 * Free what each slot points at and set the slot to NULL:
 * "sf_free_clear(env, &m->a, &m->b);" for a struct that outlives the
 * release of its arrays (freed twice, or tested for NULL afterwards).
 */
#define sf_free_clear(env, ...) \
	sf_free_slots((env), (void *const[]) {__VA_ARGS__}, \
				  sizeof((void *const[]) {__VA_ARGS__}) / sizeof(void *))
extern void sf_free_slots(sf_env *env, void *const *slots, size_t n);

/*
 * Several arrays that a function needs together, allocated all or none:
 *
 *	if (!sf_alloc_all(env, SF_MALLOC_N(w->a, n), SF_CALLOC_N(w->b, n * p)))
 *		return sf_fail(env, SF_ENOMEM, "out of memory for ...");
 *
 * SF_MALLOC_N(ptr, count) sets ptr to count uninitialised elements of its
 * type (as sf_malloc), SF_CALLOC_N to zeroed ones (as sf_calloc); a count
 * of 0 still gets a valid pointer.  Returns 1 when every array was
 * allocated; 0 when one was not (or count * size overflowed): then the
 * arrays of this call are freed and their pointers set to NULL, so the
 * caller's release function sees no half-made state.
 */
typedef struct sf_array_spec
{
	void	   *slot;			/* the address of the pointer to set (a T **) */
	size_t		count;			/* elements */
	size_t		size;			/* sizeof(T) */
	int			zero;			/* 1: zeroed */
} sf_array_spec;

#define SF_MALLOC_N(ptr, count) {&(ptr), (count), sizeof(*(ptr)), 0}
#define SF_CALLOC_N(ptr, count) {&(ptr), (count), sizeof(*(ptr)), 1}
#define sf_alloc_all(env, ...) \
	sf_alloc_each((env), (const sf_array_spec[]) {__VA_ARGS__}, \
				  sizeof((const sf_array_spec[]) {__VA_ARGS__}) / sizeof(sf_array_spec))
extern int	sf_alloc_each(sf_env *env, const sf_array_spec *arrays, size_t n);

/* Poll the interrupt callback; non-zero means stop with SF_ECANCEL. */
static inline int
sf_interrupted(sf_env *env)
{
	return env->interrupt.check != NULL && env->interrupt.check(env->interrupt.ctx);
}

/*
 * Record a status with a formatted message (printf-style) in env->errbuf and
 * return the status, so a core can write "return sf_fail(env, SF_EDATA, ...)".
 */
extern sf_status sf_fail(sf_env *env, sf_status st, const char *fmt,...)
#if defined(__GNUC__)
			__attribute__((format(printf, 3, 4)))
#endif
			;

/*
 * sf_fail with a hint the user can act on (plain text, copied), for
 * "return sf_fail_hint(env, SF_ELIMIT, "Train on a sample.", "...", ...)".
 * sf_fail clears the detail and hint of an earlier failure; sf_hint and
 * sf_detail format them after an sf_fail (a hint that needs numbers).
 */
extern sf_status sf_fail_hint(sf_env *env, sf_status st, const char *hint, const char *fmt,...)
#if defined(__GNUC__)
			__attribute__((format(printf, 4, 5)))
#endif
			;
extern void sf_hint(sf_env *env, const char *fmt,...)
#if defined(__GNUC__)
			__attribute__((format(printf, 2, 3)))
#endif
			;
extern void sf_detail(sf_env *env, const char *fmt,...)
#if defined(__GNUC__)
			__attribute__((format(printf, 2, 3)))
#endif
			;

/* Copy the message, detail and hint of a failure in 'from' into 'to' (a worker's into its caller's). */
extern void sf_env_copy_failure(sf_env *to, const sf_env *from);

/* Report one finished step of a training loop to the host, if it listens. */
static inline void
sf_progress_report(sf_env *env, const char *step_name, int step, int n_steps, int may_stop_early,
				   const char *loss_name, double loss, double valid)
{
	if (env->progress.report != NULL)
	{
		sf_progress pr = {step_name, step, n_steps, may_stop_early, loss_name, loss, valid};

		env->progress.report(env->progress.ctx, &pr);
	}
}

/* Multiply two sizes, returning 0 (and leaving *out untouched) on overflow. */
static inline int
sf_mul_size(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return 0;
	*out = a * b;
	return 1;
}

/*
 * The rows of a binary classifier (x: n rows of p features, y: labels):
 * every label 0 or 1 and both present (SF_EDATA naming the row or the
 * class), every feature finite (SF_EDATA naming feature and row), n * p not
 * past SIZE_MAX (SF_ELIMIT).  count, when not NULL, gets the rows per class.
 */
extern sf_status sf_check_binary_rows(sf_env *env, const double *x, const double *y, size_t n,
									  uint32_t p, size_t count[2]);

/*
 * The shape of a training call: SF_EDATA "no training rows" when n is 0,
 * "features must have 1 to max_features elements" when p is outside that.
 */
extern sf_status sf_check_shape(sf_env *env, size_t n, uint32_t p, uint32_t max_features);

/* A NUL-terminated copy of len bytes of s from env, NULL when out of memory. */
extern char *sf_strndup(sf_env *env, const void *s, size_t len);

/* qsort comparator of doubles, ascending (NaN-free input). */
extern int	sf_cmp_double(const void *a, const void *b);

#endif							/* SCFRISK_SF_CORE_H */
