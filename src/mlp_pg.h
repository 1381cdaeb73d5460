/*
 * mlp_pg.h
 *	  Server-side pieces shared by the MLP, logreg, hybrid and metrics
 *	  wrappers: the row-collecting aggregate state and the scorers that
 *	  predict_sql.c lists for scfrisk.predict.
 */
#ifndef SCFRISK_MLP_PG_H
#define SCFRISK_MLP_PG_H

#include "scfrisk_pg.h"

/*
 * Transition state of the training and evaluation aggregates: the rows seen
 * so far, kept in the aggregate context.  x is (n_rows, n_cols) row-major,
 * y is (n_rows).
 */
typedef struct SfRowState
{
	int			n_cols;			/* feature width, fixed by the first row */
	int64		n_rows;			/* rows collected */
	int64		cap;			/* rows allocated */
	double	   *x;				/* features, NaN = missing */
	double	   *y;				/* labels */
	Jsonb	   *params;			/* params of the first row, or NULL */
	double		threshold;		/* binary_metrics: classification threshold */
	bytea	   *model;			/* partial_dependence: the model */
	int32		feature;		/* partial_dependence: 1-based feature */
	ArrayType  *grid;			/* partial_dependence: grid values */
} SfRowState;

/*
 * The rows of st in a canonical order (by a hash of their content), as
 * palloc'd copies x (n_rows, n_cols) and y (n_rows): training is then
 * independent of scan order and parallel plans.
 */
extern void SfRowsCanonical(const SfRowState *st, double **x, double **y);

/*
 * The state of a finished row aggregate, or an error naming 'what' when no
 * row reached it (every row NULL, or empty input).
 */
extern SfRowState *SfRowsCheck(FunctionCallInfo fcinfo, const char *what);

/* Labels 0/1, checked in scan order so the message names the input row. */
extern void SfRowsCheckBinary(const SfRowState *st, const char *what);

struct mlp_params;

/* Parse mlp_train params from jb (NULL: defaults), hidden defaulting to [64, 32]. */
extern void SfParseMlpParams(Jsonb *jb, struct mlp_params *p);

/* True when the jsonb object jb has the top-level key. */
extern bool SfJsonbHasKey(Jsonb *jb, const char *key);

/* Scorers for the generic predict dispatch (one line each in predict_sql.c). */
extern const SfScorer sf_mlp_scorer;
extern const SfScorer sf_logreg_scorer;
extern const SfScorer sf_xgb_mlp_scorer;	/* src/xgb_mlp_sql.c */

#endif							/* SCFRISK_MLP_PG_H */
