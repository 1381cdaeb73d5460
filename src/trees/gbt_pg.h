/*
 * gbt_pg.h
 *	  Server-side pieces of the tree kind shared with other wrappers: the
 *	  scorer that predict_sql.c lists for scfrisk.predict, and the decoder
 *	  used with SfModelCacheGet.
 */
#ifndef SCFRISK_GBT_PG_H
#define SCFRISK_GBT_PG_H

#include "scfrisk_pg.h"

/* SfDecodeFn of kind gbt: *model is a gbt_model allocated through env. */
extern sf_status SfGbtDecode(sf_env *env, const uint8_t *buf, size_t len, void **model);

/* Scorer of kind gbt for the generic predict dispatch. */
extern const SfScorer sf_gbt_scorer;

#endif							/* SCFRISK_GBT_PG_H */
