/*
 * explain_pg.h
 *	  Server helpers of the explain concern that the training wrappers share:
 *	  the check of a feature_names parameter and the background section
 *	  added to freshly encoded model bytes.
 */
#ifndef SCFRISK_EXPLAIN_PG_H
#define SCFRISK_EXPLAIN_PG_H

#include "scfrisk_pg.h"
#include "scfrisk/sf_explain.h"

/*
 * The names of a feature_names parameter for an encoder, or NULL when the
 * list is empty; a list of another length than the rows' width is an error
 * (22023) naming 'what' and 'key'.
 */
extern const char *const *SfFeatureNamesParam(const sf_str_list *names, int width,
											  const char *what, const char *key);

/*
 * The model bytes of b as a bytea with optional common sections added
 * (sf_container_add_section): the feature names (n strings, when names is
 * not NULL) for encoders that do not write them, and the background sample
 * (when bg is not NULL).  Errors name 'what'.
 */
extern bytea *SfBufToByteaWithSections(sf_env *env, const sf_buf *b, const char *const *names,
									   uint32 n, const sf_background *bg, const char *what);

#endif							/* SCFRISK_EXPLAIN_PG_H */
