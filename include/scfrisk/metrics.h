/*
 * metrics.h
 *	  Binary classification metrics for credit scoring (docs/metrics.md):
 *	  the confusion matrix at a threshold and the ranking metrics.
 *
 * The positive class (label 1) is default, i.e. risky.  A row is predicted
 * positive when score >= threshold.
 */
#ifndef SCFRISK_METRICS_H
#define SCFRISK_METRICS_H

#include "scfrisk/sf_core.h"

typedef struct metrics_binary_result
{
	size_t		n;				/* rows */
	double		tp,
				fp,
				tn,
				fn;				/* confusion matrix counts */
	double		accuracy;		/* (tp + tn) / n */
	double		precision;		/* tp / (tp + fp), 0 when nothing is predicted positive */
	double		recall;			/* tp / (tp + fn), 0 without positives */
	double		type1_error;	/* fn / (tp + fn): risky judged risk-free */
	double		type2_error;	/* fp / (tn + fp): risk-free judged risky */
	double		f1;				/* 2 tp / (2 tp + fp + fn), 0 when undefined */
	double		mcc;			/* Matthews correlation, 0 when a margin is empty */
	int			has_ranking;	/* both classes present: auc, ks, gini defined */
	double		auc;			/* ROC AUC with ties by midranks */
	double		ks;				/* max |TPR - FPR| over thresholds */
	double		gini;			/* 2 auc - 1 */
	int			has_prob;		/* all scores in [0, 1]: brier and logloss defined */
	double		brier;			/* mean (score - label)^2 */
	double		logloss;		/* mean log-loss, scores clipped to [eps, 1 - eps] */
} metrics_binary_result;

/*
 * All metrics of labels y (n, each 0 or 1) and scores s (n, finite).  Returns
 * SF_EDATA for a label other than 0/1, a non-finite score or n == 0.
 */
extern sf_status metrics_binary(sf_env *env, const double *y, const double *s, size_t n,
								double threshold, metrics_binary_result *out);

/*
 * ROC curve: *npts points (fpr, tpr) for thresholds in decreasing order, the
 * first point (0, 0) at threshold +infinity, then one point per distinct
 * score (as scikit-learn's roc_curve with drop_intermediate=False).  The
 * three arrays are allocated through env.  Needs both classes.
 */
extern sf_status metrics_roc(sf_env *env, const double *y, const double *s, size_t n,
							 double **thresholds, double **fpr, double **tpr, size_t *npts);

/*
 * Confusion counts at each of n_t thresholds t[k] (score >= t[k] is
 * positive): tp, fp, tn, fn arrays of n_t, caller-allocated.
 */
extern sf_status metrics_confusion_at(sf_env *env, const double *y, const double *s, size_t n,
									  const double *t, size_t n_t,
									  double *tp, double *fp, double *tn, double *fn);

/* Fill the threshold metrics (accuracy .. mcc) of r from its four counts. */
extern void metrics_from_counts(metrics_binary_result *r);

#endif							/* SCFRISK_METRICS_H */
