/*
 * mlp_pg.h
 *	  Server-side pieces shared by the MLP, logreg, hybrid and metrics
 *	  wrappers: checks of a finished row store (sf_rowstore_pg.h) and the
 *	  parsing of MLP params.
 */
#ifndef SCFRISK_MLP_PG_H
#define SCFRISK_MLP_PG_H

#include "scfrisk_pg.h"
#include "sf_rowstore_pg.h"

/*
 * The state of a finished row aggregate, or an error naming 'what' when no
 * row reached it (every row NULL, or empty input).
 */
extern SfRows *SfRowsCheck(FunctionCallInfo fcinfo, const char *what);

/* Labels 0/1, checked in scan order so the message names the input row. */
extern void SfRowsCheckBinary(const SfRows *st, const char *what);

struct mlp_params;

/* Parse mlp_train params from jb (NULL: defaults), hidden defaulting to [64, 32]. */
extern void SfParseMlpParams(Jsonb *jb, struct mlp_params *p);

struct xgb_mlp_params;

/*
 * Parse xgb_mlp_train params from jb: "threshold" a number or "auto",
 * mlp.hidden defaulting to [64, 32], paper mode's 0.1.0 network defaults.
 */
extern void SfParseXgbMlpParams(Jsonb *jb, struct xgb_mlp_params *p);

/* True when the jsonb object jb has the top-level key. */
extern bool SfJsonbHasKey(Jsonb *jb, const char *key);

#endif							/* SCFRISK_MLP_PG_H */
