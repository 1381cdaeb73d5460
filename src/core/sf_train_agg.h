/*
 * sf_train_agg.h
 *	  The steps every (features float8[], label float8, params jsonb)
 *	  training aggregate of the baselines shares (src/core/train_agg.c):
 *	  tree_train, rf_train, nb_train, svm_train and knn_train; the first-row
 *	  and width check (SfTrainRowWidth) that mlp_train, logreg_train and
 *	  xgb_mlp_train share too; the parallel support functions of every
 *	  row-store aggregate (SF_ROWS_PARALLEL_FUNCTIONS).
 *
 * SfTrainTransition is a whole transition function: NULL features or label
 * skip the row, a non-finite label is 22000, the first row fixes the width
 * (an empty array 22000, more than the spec's max_cols 54000), another
 * width is 22000, the first params are kept, and the row is appended with
 * NULL and NaN elements as missing values when the spec accepts them, else
 * as errors.  max_rows > 0 stops the aggregate (54000, naming the cap) at
 * the first row past it, for a kind whose model holds its rows.
 * SfTrainStart begins a final function: the store (22000 when no row came),
 * its params parsed into params with the table, a fit context made current,
 * and the rows in canonical order as doubles; SfTrainNames checks
 * feature_names against the width.
 */
#ifndef SCFRISK_SF_TRAIN_AGG_H
#define SCFRISK_SF_TRAIN_AGG_H

#include "sf_rowstore_pg.h"
#include "scfrisk/sf_governance.h"

/*
 * A row of width n arrives: the first makes the store (an empty array
 * 22000, wider than the spec's max_cols 54000), a later one must have the
 * first one's width (22000 naming both).  Returns the store.
 */
extern SfRows *SfTrainRowWidth(MemoryContext aggcxt, SfRows *st, const SfRowsSpec *spec, int n);

/*
 * The row of a (state, features, label, ...) transition: NULL when its
 * features or label is NULL (the row is skipped); else its features, with
 * the label, finite (22000 otherwise), in *label and the store *st made or
 * its width checked (SfTrainRowWidth).  SfTrainTransition's first steps, and
 * those of a load aggregate that keeps its store in a state of its own.
 */
extern ArrayType *SfTrainRowBegin(FunctionCallInfo fcinfo, MemoryContext aggcxt, SfRows **st,
								  const SfRowsSpec *spec, double *label);

extern Datum SfTrainTransition(FunctionCallInfo fcinfo, const SfRowsSpec *spec, int64 max_rows,
							   const char *max_rows_hint);

typedef struct SfTrainRows
{
	SfRows	   *st;				/* the store */
	MemoryContext fitcxt;		/* current until SfTrainFinish */
	MemoryContext old;			/* the caller's context */
	double	   *x;				/* (n_rows, n_cols) canonical order */
	double	   *y;				/* (n_rows) */
} SfTrainRows;

extern void SfTrainStart(FunctionCallInfo fcinfo, const char *what, const sf_param_table *table,
						 void *params, SfTrainRows *tr);

/* feature_names as the encoder takes them (NULL when none); 22023 on a wrong count. */
extern const char *const *SfTrainNames(const sf_str_list *names, const SfTrainRows *tr,
									   const char *what);

/*
 * The model of the rows by the fit of kind's entry in the table of kinds
 * (sf_kinds.h) with the params SfTrainStart filled: env set up on the fit
 * context, progress reported under what when verbose, a failure reported
 * as what's (SF_PG_CHECK).  The model lives in the fit context.
 */
extern void *SfTrainFit(SfTrainRows *tr, sf_env *env, uint16 kind, const void *params,
						bool verbose, const char *what);

/*
 * SfTrainStart, SfTrainFit and the encoder of kind's entry in the table of
 * kinds, for a baseline whose model bytes are its model, params and feature
 * names (nb_train, svm_train, knn_train): params (the struct of the kind's
 * params table, zeroed first) parsed, the model fitted with progress when
 * its "verbose" is set, written with the checked feature_names into b
 * (initialised here, on the fit context).  Returns the model; failures are
 * reported as what's.
 */
extern void *SfTrainKind(FunctionCallInfo fcinfo, uint16 kind, const char *what, void *params,
						 SfTrainRows *tr, sf_env *env, sf_buf *b);

/* Copy the model bytes out of the fit context, delete it, return the bytea. */
extern bytea *SfTrainFinish(SfTrainRows *tr, const sf_buf *b);

/*
 * The three parallel support functions of any row-store aggregate, one line
 * of the store each (SfRowsSerializeFn, SfRowsDeserializeFn against the
 * aggregate's specs, SfRowsCombineFn), under the C names its CREATE
 * AGGREGATE gives; messages name the function as before.
 */
#define SF_ROWS_PARALLEL_FUNCTIONS(serialize, deserialize, combine, specs) \
	PG_FUNCTION_INFO_V1(serialize); \
	Datum serialize(PG_FUNCTION_ARGS) { return SfRowsSerializeFn(fcinfo, #serialize); } \
	PG_FUNCTION_INFO_V1(deserialize); \
	Datum deserialize(PG_FUNCTION_ARGS) { return SfRowsDeserializeFn(fcinfo, (specs), lengthof(specs)); } \
	PG_FUNCTION_INFO_V1(combine); \
	Datum combine(PG_FUNCTION_ARGS) { return SfRowsCombineFn(fcinfo, #combine); } \
	extern int	no_such_variable

/*
 * The row store of a baseline's training aggregate (float8 features, no
 * weight column; the state id, widest row and aggregate name of its spec)
 * and its C functions but the final one: prefix_train_sfunc, the shared
 * transition (max_rows and its hint as SfTrainTransition takes them), and
 * prefix_rows_serialize, prefix_rows_deserialize, prefix_rows_combine.
 */
#define SF_TRAIN_ROWS_FUNCTIONS(prefix, id, max_cols, what, max_rows, max_rows_hint) \
	static const SfRowsSpec prefix##_rows_spec = {{(id), SF_ROWS_FLOAT8, 0, 0, (max_cols)}, (what)}; \
	static const SfRowsSpec *const prefix##_specs[] = {&prefix##_rows_spec}; \
	PG_FUNCTION_INFO_V1(prefix##_train_sfunc); \
	Datum prefix##_train_sfunc(PG_FUNCTION_ARGS) \
	{ \
		return SfTrainTransition(fcinfo, &prefix##_rows_spec, (max_rows), (max_rows_hint)); \
	} \
	SF_ROWS_PARALLEL_FUNCTIONS(prefix##_rows_serialize, prefix##_rows_deserialize, \
							   prefix##_rows_combine, prefix##_specs)

/*
 * SfTrainFinish with the calibration section of "calibrate" (method
 * SF_CALIB_*, folds) fitted on out-of-fold scores of the rows, fit training
 * one fold's model (governance_pg.h, SfGovAttachCalibration).
 */
extern bytea *SfTrainFinishCalibrated(SfTrainRows *tr, const sf_buf *b, int method, int folds,
									  sf_calib_fold_fn fit, void *ctx, const char *what);

/* SfTrainFinishCalibrated whose folds train by kind's fit with params (sf_kind_fold_fit). */
extern bytea *SfTrainFinishKind(SfTrainRows *tr, const sf_buf *b, uint16 kind, const void *params,
								int method, int folds, const char *what);

#endif							/* SCFRISK_SF_TRAIN_AGG_H */
