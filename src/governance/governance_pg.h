/*
 * governance_pg.h
 *	  Server helpers of the governance concern shared with other concerns:
 *	  the training aggregates attach the drift section with
 *	  SfGovAttachDrift, scfrisk.predict applies a stored calibration with
 *	  SfGovCalibrated.
 */
#ifndef SCFRISK_GOVERNANCE_PG_H
#define SCFRISK_GOVERNANCE_PG_H

#include "scfrisk_pg.h"
#include "sf_rowstore_pg.h"
#include "scfrisk/sf_governance.h"

/*
 * The model bytes with a drift section (SF_TAG_DRIFT) holding the training
 * distributions of the score and every feature over the rows of st, scored
 * by the kind's row scorer.  Returns model itself for a kind without one.
 */
extern bytea *SfGovAttachDrift(bytea *model, const SfRows *st, const char *what);

/*
 * SfGovAttachDrift with the kind's scores of the rows of st given (prob,
 * st->n_rows values in any row order: the distribution is of the set), for
 * a trainer that scores its rows faster than row by row.
 */
extern bytea *SfGovAttachDriftScores(bytea *model, const SfRows *st, const double *prob,
									 const char *what);

/*
 * SfGovAttachDriftScores with the features counted per code of a trainer's
 * quantisation too (codes: st->n_cols of them over the st->n_rows rows, or
 * NULL): a tree model's feature whose split thresholds fall on the codes'
 * bounds is binned from the counts, without a pass over its values.
 */
extern bytea *SfGovAttachDriftCoded(bytea *model, const SfRows *st, const double *prob,
									const sf_dist_codes *codes, const char *what);

/*
 * The score p of the model in argument 0 of fcinfo (a probability from the
 * kind's scorer) through the model's calibration map, or p when the model
 * has none.  The decoded map is cached in cache's fn_extra (an FmgrInfo
 * owned by the call site, fn_mcxt set), keyed as SfModelCacheGet keys.
 */
extern double SfGovCalibrated(FunctionCallInfo fcinfo, FmgrInfo *cache, double p);

/*
 * The model bytes with section tag set to the bytes of sec (written
 * through env, whose failure to grow it is reported here): a new bytea
 * allocated in outcxt, the work done in env's context workcxt, which ends
 * here (outcxt current, workcxt deleted), as every section's fit ends.
 */
extern bytea *SfGovSetSection(sf_env *env, bytea *model, uint16 tag, const sf_buf *sec,
							  MemoryContext outcxt, MemoryContext workcxt, const char *what);

/*
 * The model bytes with a calibration section fitted on out-of-fold scores
 * (sf_calib_fit_oof over the training rows x, y in canonical order, fit
 * training one fold's model), or model itself when method is SF_CALIB_NONE.
 */
extern bytea *SfGovAttachCalibration(bytea *model, const double *x, const double *y, size_t n,
									 uint32 p, int method, int folds, sf_calib_fold_fn fit,
									 void *ctx, const char *what);

/* 22023 when "calibrate" is set for a trainer whose objective is not binary. */
extern void SfGovCheckCalibrate(int method, bool binary, const char *what);

/* Score scale (SF_SCALE_*) of a decoded model of a kind. */
extern int	SfGovScoreScale(uint16 kind, const void *model);

#endif							/* SCFRISK_GOVERNANCE_PG_H */
