/*
 * metrics.c
 *	  Binary classification metrics: confusion matrix, accuracy, precision,
 *	  recall, Type I/II errors, F1, MCC, ROC AUC, KS, Gini, Brier, log-loss.
 *
 * Definitions are those of the methods note (docs/metrics.md), with
 * scikit-learn's conventions where a ratio is undefined (zero_division = 0,
 * MCC 0 when a margin of the confusion matrix is empty).  AUC is the
 * Mann-Whitney statistic with tied scores given their average rank
 * (midranks), which equals the trapezoidal area under the ROC curve that
 * scikit-learn's roc_auc_score computes (Hanley and McNeil 1982).  KS is
 * the largest distance between the score distributions of the two classes,
 * max |TPR - FPR| over thresholds at distinct scores.  Rows are sorted once
 * (O(n log n)); counts are exact in doubles up to 2^53 rows.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/metrics.h"

typedef struct scored
{
	double		s;
	double		y;
} scored;

/* ascending by score, then label (a fixed order for equal scores) */
static int
cmp_scored(const void *a, const void *b)
{
	const scored *x = a,
			   *y = b;

	if (x->s < y->s)
		return -1;
	if (x->s > y->s)
		return 1;
	return (x->y > y->y) - (x->y < y->y);
}

static sf_status
check_inputs(sf_env *env, const double *y, const double *s, size_t n)
{
	size_t		i;

	if (n == 0)
		return sf_fail(env, SF_EDATA, "no rows to evaluate");
	for (i = 0; i < n; i++)
	{
		if (y[i] != 0.0 && y[i] != 1.0)
			return sf_fail(env, SF_EDATA, "label of row %zu is %g, metrics need 0 or 1", i + 1, y[i]);
		if (!isfinite(s[i]))
			return sf_fail(env, SF_EDATA, "score of row %zu is not finite", i + 1);
	}
	return SF_OK;
}

static sf_status
sorted_copy(sf_env *env, const double *y, const double *s, size_t n, scored **out)
{
	scored	   *v = sf_malloc(env, n * sizeof(scored));
	size_t		i;

	if (v == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory sorting %zu scores", n);
	for (i = 0; i < n; i++)
	{
		v[i].s = s[i];
		v[i].y = y[i];
	}
	qsort(v, n, sizeof(scored), cmp_scored);
	*out = v;
	return SF_OK;
}

/*
 * Walk down from v[a - 1] over the rows of equal score (a group of ties),
 * counting its positives into tp and negatives into fp; returns where the
 * group starts.  KS and the ROC curve step over whole groups, so tied scores
 * give one point.
 */
static size_t
tie_group_down(const scored *v, size_t a, double *tp, double *fp)
{
	size_t		b = a;

	while (b > 0 && v[b - 1].s == v[a - 1].s)
	{
		if (v[b - 1].y == 1.0)
			(*tp)++;
		else
			(*fp)++;
		b--;
	}
	return b;
}

void
metrics_from_counts(metrics_binary_result *r)
{
	double		tp = r->tp,
				fp = r->fp,
				tn = r->tn,
				fn = r->fn;
	double		n = tp + fp + tn + fn;
	double		den;

	r->accuracy = n > 0 ? (tp + tn) / n : 0.0;
	r->precision = tp + fp > 0 ? tp / (tp + fp) : 0.0;
	r->recall = tp + fn > 0 ? tp / (tp + fn) : 0.0;
	r->type1_error = tp + fn > 0 ? fn / (tp + fn) : 0.0;
	r->type2_error = tn + fp > 0 ? fp / (tn + fp) : 0.0;
	r->f1 = 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0;
	den = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn);
	r->mcc = den > 0 ? (tp * tn - fp * fn) / sqrt(den) : 0.0;
}

sf_status
metrics_binary(sf_env *env, const double *y, const double *s, size_t n,
			   double threshold, metrics_binary_result *out)
{
	scored	   *v = NULL;
	double		P = 0,
				N = 0,
				brier = 0,
				ll = 0;
	size_t		i;
	sf_status	st;

	memset(out, 0, sizeof(*out));
	if ((st = check_inputs(env, y, s, n)) != SF_OK)
		return st;
	out->n = n;
	out->has_prob = 1;
	for (i = 0; i < n; i++)
	{
		int			pred = s[i] >= threshold;

		if (y[i] == 1.0)
		{
			P++;
			if (pred)
				out->tp++;
			else
				out->fn++;
		}
		else
		{
			N++;
			if (pred)
				out->fp++;
			else
				out->tn++;
		}
		if (s[i] < 0.0 || s[i] > 1.0)
			out->has_prob = 0;
		else
		{
			double		p = s[i];

			brier += (p - y[i]) * (p - y[i]);
			if (p < DBL_EPSILON)
				p = DBL_EPSILON;
			if (p > 1.0 - DBL_EPSILON)
				p = 1.0 - DBL_EPSILON;
			ll -= y[i] == 1.0 ? log(p) : log(1.0 - p);
		}
	}
	metrics_from_counts(out);
	if (out->has_prob)
	{
		out->brier = brier / n;
		out->logloss = ll / n;
	}
	if (P > 0 && N > 0)
	{
		double		rank_pos = 0.0,
					tp = 0,
					fp = 0,
					ks = 0;
		size_t		a = 0;

		if ((st = sorted_copy(env, y, s, n, &v)) != SF_OK)
			return st;
		/* ascending groups of equal scores: midranks */
		while (a < n)
		{
			size_t		b = a;
			double		pos = 0;

			while (b < n && v[b].s == v[a].s)
			{
				pos += v[b].y;
				b++;
			}
			rank_pos += pos * (((double) a + 1.0 + (double) b) / 2.0);
			a = b;
		}
		/* descending groups: KS */
		a = n;
		while (a > 0)
		{
			size_t		b = tie_group_down(v, a, &tp, &fp);

			ks = fmax(ks, fabs(tp / P - fp / N));
			a = b;
		}
		sf_free(env, v);
		out->has_ranking = 1;
		out->auc = (rank_pos - P * (P + 1.0) / 2.0) / (P * N);
		out->gini = 2.0 * out->auc - 1.0;
		out->ks = ks;
	}
	return SF_OK;
}

sf_status
metrics_roc(sf_env *env, const double *y, const double *s, size_t n,
			double **thresholds, double **fpr, double **tpr, size_t *npts)
{
	scored	   *v = NULL;
	double		P = 0,
				N = 0,
				tp = 0,
				fp = 0;
	size_t		i,
				k = 0,
				a;
	sf_status	st;

	*thresholds = *fpr = *tpr = NULL;
	*npts = 0;
	if ((st = check_inputs(env, y, s, n)) != SF_OK)
		return st;
	for (i = 0; i < n; i++)
		P += y[i];
	N = (double) n - P;
	if (P == 0 || N == 0)
		return sf_fail(env, SF_EDATA, "the ROC curve needs both classes (%s)",
					   P == 0 ? "all labels 0" : "all labels 1");
	if ((st = sorted_copy(env, y, s, n, &v)) != SF_OK)
		return st;
	if (!sf_alloc_all(env, SF_MALLOC_N(*thresholds, n + 1), SF_MALLOC_N(*fpr, n + 1), SF_MALLOC_N(*tpr, n + 1)))
	{
		sf_free(env, v);
		return sf_fail(env, SF_ENOMEM, "out of memory for the ROC curve");
	}
	(*thresholds)[0] = INFINITY;
	(*fpr)[0] = 0.0;
	(*tpr)[0] = 0.0;
	k = 1;
	a = n;
	while (a > 0)
	{
		size_t		b = tie_group_down(v, a, &tp, &fp);

		(*thresholds)[k] = v[a - 1].s;
		(*fpr)[k] = fp / N;
		(*tpr)[k] = tp / P;
		k++;
		a = b;
	}
	sf_free(env, v);
	*npts = k;
	return SF_OK;
}

sf_status
metrics_confusion_at(sf_env *env, const double *y, const double *s, size_t n,
					 const double *t, size_t n_t,
					 double *tp, double *fp, double *tn, double *fn)
{
	scored	   *v = NULL;
	double	   *cum_pos = NULL;
	double		P = 0;
	size_t		i,
				k;
	sf_status	st;

	if ((st = check_inputs(env, y, s, n)) != SF_OK)
		return st;
	for (k = 0; k < n_t; k++)
		if (isnan(t[k]))
			return sf_fail(env, SF_EDATA, "threshold %zu is NaN", k + 1);
	if ((st = sorted_copy(env, y, s, n, &v)) != SF_OK)
		return st;
	cum_pos = sf_malloc(env, (n + 1) * sizeof(double));
	if (cum_pos == NULL)
	{
		sf_free(env, v);
		return sf_fail(env, SF_ENOMEM, "out of memory for the threshold table");
	}
	/* cum_pos[i]: positives among the i lowest scores */
	cum_pos[0] = 0;
	for (i = 0; i < n; i++)
		cum_pos[i + 1] = cum_pos[i] + v[i].y;
	P = cum_pos[n];
	for (k = 0; k < n_t; k++)
	{
		/* lo = number of scores < t[k] (first index with s >= t) */
		size_t		lo = 0,
					hi = n;

		while (lo < hi)
		{
			size_t		mid = lo + (hi - lo) / 2;

			if (v[mid].s < t[k])
				lo = mid + 1;
			else
				hi = mid;
		}
		fn[k] = cum_pos[lo];
		tn[k] = (double) lo - cum_pos[lo];
		tp[k] = P - cum_pos[lo];
		fp[k] = (double) (n - lo) - tp[k];
	}
	sf_free(env, v);
	sf_free(env, cum_pos);
	return SF_OK;
}
