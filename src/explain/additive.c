/*
 * additive.c
 *	  Exact explanations of the baselines whose log-odds are additive over
 *	  the features (sf_explain.h): Gaussian naive Bayes and the linear SVM
 *	  with Platt scaling.
 *
 * For a margin f(x) = c + sum_j g_j(x_j), the interventional Shapley value
 * of feature j against a reference distribution D is g_j(x_j) - E_D[g_j],
 * and the bias is c + sum_j E_D[g_j]: they add up to f(x) exactly, and they
 * are what any sampling estimator would converge to.  D is the training
 * rows.  Naive Bayes stores enough of them (class shares, class means and
 * variances) to take E[g_j] in closed form, since g_j is a quadratic; the
 * SVM's g_j is linear, so E[g_j] = g_j(mean_j) needs only the training means,
 * stored as the model's one background row (as logreg does).
 */
#include <math.h>
#include <string.h>

#include "scfrisk/sf_explain.h"
#include "scfrisk/nb.h"
#include "scfrisk/svm.h"

/*
 * log N(x; mu1, v1) - log N(x; mu0, v0) for one feature, and its mean over
 * the training rows: E[(X - mu_c)^2] = S2 + (m - mu_c)^2, with m and S2 the
 * training mean and (population) variance of the feature.  The stored
 * variances hold GaussianNB's epsilon, which the data's variance does not.
 */
static void
nb_feature(const nb_model *m, uint32_t j, double x, double *g, double *eg)
{
	double		mu0 = m->mean[j],
				mu1 = m->mean[m->n_features + j];
	double		v0 = m->var[j],
				v1 = m->var[m->n_features + j];
	double		mean = m->prior[0] * mu0 + m->prior[1] * mu1;
	double		s2 = m->prior[0] * (v0 - m->epsilon) + m->prior[1] * (v1 - m->epsilon) +
		m->prior[0] * (mu0 - mean) * (mu0 - mean) + m->prior[1] * (mu1 - mean) * (mu1 - mean);
	double		half_log = -0.5 * log(v1 / v0);

	*g = half_log - (x - mu1) * (x - mu1) / (2 * v1) + (x - mu0) * (x - mu0) / (2 * v0);
	*eg = half_log - (s2 + (mean - mu1) * (mean - mu1)) / (2 * v1) +
		(s2 + (mean - mu0) * (mean - mu0)) / (2 * v0);
}

sf_status
sf_explain_nb(sf_env *env, const void *model, const sf_background *bg,
			  const double *x, double *phi, double *se)
{
	const nb_model *m = model;
	double		bias = log(m->prior[1] / m->prior[0]);
	uint32_t	j;

	if (se)
		memset(se, 0, sizeof(double) * (m->n_features + 1));
	for (j = 0; j < m->n_features; j++)
	{
		double		g,
					eg;

		if (!isfinite(x[j]))
			return sf_fail(env, SF_EDATA, "gaussian_nb models take no missing values (feature %u)", j + 1);
		nb_feature(m, j, x[j], &g, &eg);
		phi[j] = g - eg;
		bias += eg;
	}
	phi[m->n_features] = bias;
	return SF_OK;
}

sf_status
sf_explain_svm(sf_env *env, const void *model, const sf_background *bg,
			   const double *x, double *phi, double *se)
{
	const svm_model *m = model;
	/* log-odds of P(1 | f) = 1 / (1 + exp(A f + B)) are -(A f + B) */
	double		a = -m->platt_a;
	double		bias = -(m->platt_a * m->intercept + m->platt_b);
	uint32_t	j;

	if (se)
		memset(se, 0, sizeof(double) * (m->n_features + 1));
	if (bg->n_rows != 1 || bg->n_cols != m->n_features)
		return sf_fail(env, SF_EDATA, "the model has no training means (its background section)");
	for (j = 0; j < m->n_features; j++)
	{
		double		mu = bg->x[j];

		phi[j] = a * m->coef[j] * (x[j] - mu);
		bias += a * m->coef[j] * mu;
	}
	phi[m->n_features] = bias;
	return SF_OK;
}
