/*
 * shard_pg.h
 *	  The transport of the sharded trainers (gbt_dist_sql.c: xgb_train_sharded;
 *	  logreg_dist_sql.c: logreg_train_sharded), server code.
 *
 * Shard side: a training's session (its rows, kept from the load query to
 * the training's last job or the end of the remote transaction), keyed by
 * the session number the coordinator sends.  Coordinator side: the
 * partitions from scfrisk.check_shards, the load query (one pushed-down
 * aggregate per partition), and the two ways every later job reaches the
 * shards' scfrisk.xgb_shard_step: logreg's prepared step query over the
 * one-row view scfrisk.shard_unit, xgb's query per server over
 * postgres_fdw's connections (gbt_dist_pg.c).
 */
#ifndef SCFRISK_SHARD_PG_H
#define SCFRISK_SHARD_PG_H

#include "executor/spi.h"

#include "sf_rowstore_pg.h"

#include "scfrisk/gbt_dist.h"
#include "scfrisk/logreg_dist.h"

/* one per partition of a training on this server, and per training still open in the transaction */
#define SHARD_SESSIONS 64

/* A training's state on a shard: exactly one of sh (xgb) and lr (logreg) once loaded. */
typedef struct ShardSession
{
	int64		key;
	MemoryContext cxt;			/* NULL: a free slot */
	gbt_dist_shard *sh;
	logreg_dist_shard *lr;
} ShardSession;

/*
 * A new session for key in a memory context of its own (an old one of the
 * same key is replaced) holding a load aggregate's rows as doubles in the canonical
 * order (w NULL: no weights), in the session's context, made current (the
 * caller switches back to *old); env allocates there.
 */
extern ShardSession *ShardSessionLoad(int64 key, SfRows *rows, sf_env *env, double **x, double **y,
									  double **w, MemoryContext *old);

/* The partitions of the table in check_shards' order, and the feature width. */
typedef struct ShardPlan
{
	const char *what;			/* the trainer, for messages */
	int			n;
	char	  **part;			/* qualified partition names */
	char	  **server;			/* their foreign servers */
	int			width;			/* features' width (0 when every shard is empty) */
	int64		session;		/* partition k's training on its shard is session + k */
	char	   *sketch_sql;		/* the load query */
	bool	   *has_rows;		/* the partition's load answer came back (it holds rows) */
	SPIPlanPtr	step_plan;
	/* the replies of the last exchange (in exchange_cxt) */
	MemoryContext exchange_cxt;
	const uint8_t **bufs;
	size_t	   *lens;
	struct ShardLinks *links;	/* xgb's direct transport (gbt_dist_pg.c), after ShardConnect */
} ShardPlan;

/* A numeric column of the relation for the label or weight, else an error naming what. */
extern void CheckNumericColumn(Oid relid, const char *col, const char *role, const char *what);
extern void PlanShards(ShardPlan *sp, Oid relid, const char *features, const char *label,
					   const char *weight, const char *what, const char *loader);
/* The non-NULL answers of the last query, in partition order, into sp->bufs / sp->lens. */
extern int	CollectReplies(ShardPlan *sp);
/* The step query over the partitions whose load answered (after CollectReplies of the load). */
extern void PrepareStep(ShardPlan *sp);
/* gbt_dist_io's exchange over sp (ctx). */
extern sf_status ShardExchange(void *ctx, const uint8_t *job, size_t job_len, int *n_replies,
							   const uint8_t *const **replies, const size_t **lens);

/*
 * xgb_train_sharded's transport after the sketch (gbt_dist_pg.c): the
 * connections postgres_fdw holds to the servers of the partitions whose
 * load answered, a step sent to all of them at once, binary replies.
 */
extern void ShardConnect(ShardPlan *sp);
extern sf_status ShardExchangeDirect(void *ctx, const uint8_t *job, size_t job_len, int *n_replies,
									 const uint8_t *const **replies, const size_t **lens);
/* DEBUG1: the steps and bytes of the direct transport. */
extern void ShardReportTraffic(const ShardPlan *sp);

#endif							/* SCFRISK_SHARD_PG_H */
