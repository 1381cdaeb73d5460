/*
 * gbt_dist_int.h
 *	  What the two halves of sharded tree training share (gbt_dist.c: the
 *	  shard side and the sketch merge; gbt_dist_grow.c: the coordinator).
 *	  Pure C, no postgres.h.
 */
#ifndef SCFRISK_GBT_DIST_INT_H
#define SCFRISK_GBT_DIST_INT_H

#include <string.h>

#include "scfrisk/gbt_dist.h"
#include "gbt_int.h"

#define SKETCH_MAGIC	0x31534447u	/* "GDS1" */
#define JOB_MAGIC		0x314A4447u	/* "GDJ1" */
#define REPLY_MAGIC		0x31524447u	/* "GDR1" */

/* The union's row counts, label counts and weighting from the sketch headers. */
typedef struct dist_totals
{
	uint32_t	p;
	uint64_t	n,
				n0,
				n1;
	int			weighted;		/* some weight is not 1 */
	double		sw;
} dist_totals;

/*
 * The bin edges of the union of the shards' rows into b (n_bins, off, cuts,
 * min_val, has_missing; no codes: the coordinator holds no rows) from their
 * sketches in the given order, and the totals.
 */
extern sf_status gbt_dist_merge_sketches(sf_env *env, const uint8_t *const *sk, const size_t *len,
										 int ns, int max_bin, dist_totals *tot, gbt_bins *b);

/*
 * A histogram's packed (g, h) pairs cross as little-endian doubles; on a
 * little-endian host that is their memory, written and read in one copy
 * rather than a double at a time.
 */
static inline int
dist_host_le(void)
{
	const uint16_t one = 1;
	uint8_t		first;

	memcpy(&first, &one, 1);
	return first == 1;
}

/* The kinds of job (gbt_dist.h): the first, a tree's root, a level's splits. */
#define JOB_START	1
#define JOB_TREE	2
#define JOB_LEVEL	3

#endif							/* SCFRISK_GBT_DIST_INT_H */
