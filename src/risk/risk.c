/*
 * risk.c
 *	  Loan risk measures from a conditional sales distribution (sf_risk.h):
 *	  the terms and policy tables, repayment capacities, and the two
 *	  evaluators of methods/qrgmm_scf.md section 6.3.
 *
 * Exact path (6.3a).  For the affine presets C = kappa S + R0, default is
 * S < s_th = (t - R0) / kappa, so with F = Fhat_S(s_th) and the partial
 * moment I = integral_0^F Qhat_S (sf_qcurve_partial, exact on the S scale):
 *	PD = F,  EL = kappa (s_th F - I),
 *	CVaR_a = kappa (s_th P - I_P) / (1 - a),  P = min(F, 1 - a),
 *	VaR_a = kappa (s_th - Qhat_S(1 - a))^+.
 * Sample path (6.3b).  With sorted capacities c_(1..K), prefix sums Pc and
 * j = #{c < t}, kk = ceil((1 - a) K):
 *	PD = j / K,  EL = (j t - Pc_j) / K,
 *	CVaR_a = (min(j,kk) t - Pc_min(j,kk)) / kk,  VaR_a = (t - c_(kk))^+.
 * Both paths then give ELGD = EL / PD, LGD rate = EL / (PD t) and expected
 * profit t - EL + fee L - (1 + r_f) L.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_risk.h"

/* ------------------------------------------------------------ tables */

static const char *const risk_presets[] = {
	"sales", "sales_plus_fixed_recovery", "sales_plus_collateral", NULL
};

const char *
sf_risk_preset_name(int preset)
{
	if (preset < 0 || preset > SF_RISK_SALES_COLLATERAL)
		return "unknown";
	return risk_presets[preset];
}

static const char *const risk_bindings[SF_BIND_COUNT] = {
	"pd_limit", "el_rate", "cvar_budget", "ltv_cap", "credit_line", "profit_optimum"
};

const char *
sf_risk_binding_name(sf_risk_binding b)
{
	if ((int) b < 0 || b >= SF_BIND_COUNT)
		return "none";
	return risk_bindings[b];
}

/*
 * The terms keys, at a base offset so that the policy table can embed them
 * flattened (one jsonb object for terms and limits).
 */
#define RISK_TERM_SPECS(base) \
	{"rate", SF_PT_DOUBLE, (base) + offsetof(sf_risk_terms, rate), RISK_DEFAULT_RATE, -1, 100, 1, 0, \
		NULL, NULL, "period interest rate r; due = (1 + r) loan"}, \
	{"fee", SF_PT_DOUBLE, (base) + offsetof(sf_risk_terms, fee), 0, 0, 1, 0, 1, NULL, NULL, \
		"upfront fee as a share of the loan"}, \
	{"funding_rate", SF_PT_DOUBLE, (base) + offsetof(sf_risk_terms, funding_rate), 0, -1, 100, 1, 0, \
		NULL, NULL, "lender's period funding cost r_f"}, \
	{"remittance", SF_PT_DOUBLE, (base) + offsetof(sf_risk_terms, remittance), 1, 0, 1, 1, 0, \
		NULL, NULL, "share kappa of period sales remitted to the lender"}, \
	{"collateral_value", SF_PT_DOUBLE, (base) + offsetof(sf_risk_terms, collateral_value), 0, 0, \
		1e300, 0, 0, NULL, NULL, "value V of the in-transit collateral"}, \
	{"haircut", SF_PT_DOUBLE, (base) + offsetof(sf_risk_terms, haircut), RISK_DEFAULT_HAIRCUT, 0, 1, \
		0, 0, NULL, NULL, "liquidation haircut h on the collateral"}, \
	{"units", SF_PT_DOUBLE, (base) + offsetof(sf_risk_terms, units), 0, 0, 1e300, 0, 0, NULL, NULL, \
		"units in transit q0 (sales_plus_collateral)"}, \
	{"unit_price", SF_PT_DOUBLE, (base) + offsetof(sf_risk_terms, unit_price), 0, 0, 1e300, 0, 0, \
		NULL, NULL, "selling price per unit p (sales_plus_collateral)"}, \
	{"unit_cost", SF_PT_DOUBLE, (base) + offsetof(sf_risk_terms, unit_cost), 0, 0, 1e300, 0, 0, \
		NULL, NULL, "collateral value per unit w (sales_plus_collateral)"}, \
	{"level", SF_PT_DOUBLE, (base) + offsetof(sf_risk_terms, level), RISK_DEFAULT_LEVEL, 0, 1, 1, 1, \
		NULL, NULL, "VaR and CVaR level a"}, \
	{"repayment", SF_PT_ENUM, (base) + offsetof(sf_risk_terms, repayment), 0, 0, 0, 0, 0, \
		risk_presets, NULL, "repayment preset: sales, sales_plus_fixed_recovery, sales_plus_collateral"}, \
	{"samples", SF_PT_INT, (base) + offsetof(sf_risk_terms, samples), RISK_DEFAULT_SAMPLES, \
		RISK_MIN_SAMPLES, RISK_MAX_SAMPLES, 0, 0, NULL, NULL, \
		"stratified draws of the sample path from a model (sales_plus_collateral)"}

static const sf_param_spec risk_terms_specs[] = {
	RISK_TERM_SPECS(0)
};

static sf_status
risk_terms_validate_hook(sf_env *env, const void *obj)
{
	return sf_risk_terms_validate(env, (const sf_risk_terms *) obj);
}

const sf_param_table sf_risk_terms_table = {
	"loan_risk_curve", risk_terms_specs,
	(int) (sizeof(risk_terms_specs) / sizeof(risk_terms_specs[0])),
	risk_terms_validate_hook
};

/* The policy keys (terms flattened, then the limits), at a base offset. */
#define RISK_POLICY_SPECS(base) \
	RISK_TERM_SPECS((base) + offsetof(sf_risk_policy, terms)), \
	{"pd_limit", SF_PT_DOUBLE, (base) + offsetof(sf_risk_policy, pd_limit), RISK_DEFAULT_PD_LIMIT, 0, 1, 1, 0, \
	NULL, NULL, "largest default probability; 1 = no limit"}, \
	{"el_rate", SF_PT_DOUBLE, (base) + offsetof(sf_risk_policy, el_rate), RISK_DEFAULT_EL_RATE, 0, 100, 0, 0, \
	NULL, NULL, "expected loss at most el_rate * loan; 0 = no limit"}, \
	{"cvar_budget", SF_PT_DOUBLE, (base) + offsetof(sf_risk_policy, cvar_budget), 0, 0, 1e300, 0, 0, \
	NULL, NULL, "CVaR at the level at most this amount; 0 = no limit"}, \
	{"ltv_cap", SF_PT_DOUBLE, (base) + offsetof(sf_risk_policy, ltv_cap), RISK_DEFAULT_LTV_CAP, 0, 10, 0, 0, \
	NULL, NULL, "loan at most ltv_cap * collateral_value (when collateral_value > 0); 0 = no cap"}, \
	{"credit_line", SF_PT_DOUBLE, (base) + offsetof(sf_risk_policy, credit_line), 0, 0, 1e300, 0, 0, \
	NULL, NULL, "loan at most this amount; 0 = no line"}, \
	{"profit_optimum", SF_PT_BOOL, (base) + offsetof(sf_risk_policy, profit_optimum), 1, 0, 1, 0, 0, \
	NULL, NULL, "also cap the loan at the expected-profit maximum"}

static const sf_param_spec risk_policy_specs[] = {
	RISK_POLICY_SPECS(0)
};

static sf_status
risk_policy_validate_hook(sf_env *env, const void *obj)
{
	return sf_risk_terms_validate(env, &((const sf_risk_policy *) obj)->terms);
}

const sf_param_table sf_risk_policy_table = {
	"loan_size", risk_policy_specs,
	(int) (sizeof(risk_policy_specs) / sizeof(risk_policy_specs[0])),
	risk_policy_validate_hook
};

static const char *const pd_combines[] = {"max", "independent", "union_bound", NULL};

const char *
sf_pd_combine_name(int c)
{
	if (c < 0 || c > SF_COMBINE_UNION_BOUND)
		return "unknown";
	return pd_combines[c];
}

/* loan_decision: the loan_size keys (base is first), then the decision's own. */
static const sf_param_spec risk_decision_specs[] = {
	RISK_POLICY_SPECS(offsetof(sf_risk_decision_policy, base)),
	{"credit_pd_limit", SF_PT_DOUBLE, offsetof(sf_risk_decision_policy, credit_pd_limit), 1, 0, 1, 1, 0,
	NULL, NULL, "largest PD of the credit model at the loan; 1 = no limit"},
	{"pd_combine", SF_PT_ENUM, offsetof(sf_risk_decision_policy, pd_combine), SF_COMBINE_MAX, 0, 0, 0, 0,
		pd_combines, NULL,
	"how the sales and credit PDs combine: max (two views of one default event), independent, union_bound"},
	{"combined_pd_limit", SF_PT_DOUBLE, offsetof(sf_risk_decision_policy, combined_pd_limit), 1, 0, 1, 1, 0,
	NULL, NULL, "largest combined PD (pd_combine); 1 = no limit"},
	{"min_loan", SF_PT_DOUBLE, offsetof(sf_risk_decision_policy, min_loan), 0, 0, 1e300, 0, 0,
	NULL, NULL, "a loan of at most this amount is declined"},
	{"credit_grid", SF_PT_INT, offsetof(sf_risk_decision_policy, credit_grid), RISK_DEFAULT_CREDIT_GRID,
		1, RISK_MAX_CREDIT_GRID, 0, 0, NULL, NULL,
	"loans of the downward scan for the credit-PD limits"},
};

static sf_status
risk_decision_validate_hook(sf_env *env, const void *obj)
{
	return sf_risk_terms_validate(env, &((const sf_risk_decision_policy *) obj)->base.terms);
}

const sf_param_table sf_risk_decision_table = {
	"loan_decision", risk_decision_specs,
	(int) (sizeof(risk_decision_specs) / sizeof(risk_decision_specs[0])),
	risk_decision_validate_hook
};

/* ------------------------------------------------------------ capacity */

sf_status
sf_risk_terms_validate(sf_env *env, const sf_risk_terms *t)
{
	if (!(t->rate > -1.0) || !isfinite(t->rate))
		return sf_fail(env, SF_EINVAL, "parameter \"rate\" must be greater than -1, got %g", t->rate);
	if (!(t->funding_rate > -1.0) || !isfinite(t->funding_rate))
		return sf_fail(env, SF_EINVAL, "parameter \"funding_rate\" must be greater than -1, got %g",
					   t->funding_rate);
	if (!(t->level > 0.0 && t->level < 1.0))
		return sf_fail(env, SF_EINVAL, "parameter \"level\" must lie in (0, 1), got %g", t->level);
	if (!(t->haircut >= 0.0 && t->haircut <= 1.0))
		return sf_fail(env, SF_EINVAL, "parameter \"haircut\" must lie in [0, 1], got %g", t->haircut);
	if (!(t->remittance > 0.0 && t->remittance <= 1.0))
		return sf_fail(env, SF_EINVAL, "parameter \"remittance\" must lie in (0, 1], got %g",
					   t->remittance);
	if (t->repayment == SF_RISK_SALES_COLLATERAL)
	{
		if (!(t->units > 0.0) || !(t->unit_price > 0.0))
			return sf_fail(env, SF_EINVAL,
						   "repayment \"sales_plus_collateral\" needs \"units\" > 0 and \"unit_price\" > 0");
		/*
		 * Each unit sold brings kappa p to the lender but removes (1 - h) w
		 * of liquidation value, so capacity rises with sales only while
		 * kappa p >= (1 - h) w: otherwise C < t is not "sales below a
		 * threshold" and no single sales threshold defines default.
		 */
		if (t->remittance * t->unit_price < (1.0 - t->haircut) * t->unit_cost)
			return sf_fail(env, SF_EINVAL,
						   "repayment capacity of \"sales_plus_collateral\" decreases with sales: "
						   "remittance * unit_price (%g) must be at least (1 - haircut) * unit_cost (%g)",
						   t->remittance * t->unit_price, (1.0 - t->haircut) * t->unit_cost);
	}
	return SF_OK;
}

double
sf_risk_capacity(const sf_risk_terms *t, double s)
{
	double		c = t->remittance * s;

	if (t->repayment == SF_RISK_SALES_FIXED)
		c += (1.0 - t->haircut) * t->collateral_value;
	else if (t->repayment == SF_RISK_SALES_COLLATERAL)
	{
		double		unsold = t->units - s / t->unit_price;

		if (unsold > 0.0)
			c += (1.0 - t->haircut) * t->unit_cost * unsold;
	}
	return c;
}

/* ------------------------------------------------------------ evaluators */

/* Sort capacities c[0..K) (unless sorted) and build the prefix sums. */
static sf_status
finish_samples(sf_env *env, sf_risk_eval *ev, size_t K)
{
	size_t		k;
	int			sorted = 1;
	double		cvar_mass = 1.0 - ev->terms.level;

	for (k = 1; k < K && sorted; k++)
		if (ev->c[k] < ev->c[k - 1])
			sorted = 0;
	if (!sorted)
		qsort(ev->c, K, sizeof(double), sf_cmp_double);
	ev->pc = sf_malloc(env, (K + 1) * sizeof(double));
	if (ev->pc == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for %zu capacity prefix sums", K + 1);
	ev->pc[0] = 0.0;
	for (k = 0; k < K; k++)
		ev->pc[k + 1] = ev->pc[k] + ev->c[k];
	ev->K = K;
	ev->kk = (size_t) ceil(cvar_mass * (double) K - 1e-9);
	if (ev->kk < 1)
		ev->kk = 1;
	if (ev->kk > K)
		ev->kk = K;
	ev->c_max = ev->c[K - 1];
	return SF_OK;
}

static void
eval_init(sf_risk_eval *ev, const sf_risk_terms *terms)
{
	memset(ev, 0, sizeof(*ev));
	ev->terms = *terms;
	ev->kappa = terms->remittance;
	ev->r0 = terms->repayment == SF_RISK_SALES_FIXED
		? (1.0 - terms->haircut) * terms->collateral_value : 0.0;
}

sf_status
sf_risk_eval_curve(sf_env *env, const sf_risk_terms *terms, const sf_qcurve *curve,
				   sf_risk_eval *out)
{
	sf_status	st;
	size_t		K,
				k;

	eval_init(out, terms);
	st = sf_risk_terms_validate(env, terms);
	if (st != SF_OK)
		return st;
	if (curve == NULL || curve->m < 2 || curve->qa == NULL)
		return sf_fail(env, SF_EINVAL, "loan risk needs a quantile curve");
	out->atom = 1.0 / (double) curve->m;
	if (terms->repayment != SF_RISK_SALES_COLLATERAL)
	{
		out->curve = curve;
		out->q_var = sf_qcurve_quantile(curve, 1.0 - terms->level);
		out->i_var = sf_qcurve_integral(curve, 1.0 - terms->level);
		out->c_max = out->kappa * sf_qcurve_quantile(curve, 1.0) + out->r0;
		return SF_OK;
	}
	/* piecewise-linear capacity: stratified draws, then the sample path */
	K = (size_t) terms->samples;
	out->c = sf_malloc(env, K * sizeof(double));
	if (out->c == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for %zu sales draws", K);
	sf_qcurve_stratified(curve, out->c, K);
	for (k = 0; k < K; k++)
		out->c[k] = sf_risk_capacity(terms, out->c[k]);
	st = finish_samples(env, out, K);
	return st;
}

sf_status
sf_risk_eval_samples(sf_env *env, const sf_risk_terms *terms, const double *s, size_t n,
					 sf_risk_eval *out)
{
	sf_status	st;
	size_t		k;

	eval_init(out, terms);
	st = sf_risk_terms_validate(env, terms);
	if (st != SF_OK)
		return st;
	if (n == 0)
		return sf_fail(env, SF_EDATA, "sales samples are empty");
	for (k = 0; k < n; k++)
	{
		if (!isfinite(s[k]))
			return sf_fail(env, SF_EDATA, "sales sample %zu is %s", k + 1,
						   isnan(s[k]) ? "NaN" : "infinite");
		/* sales are amounts sold: a negative one has no meaning here (it
		 * would count as a shortfall at a zero loan, PD > 0 owing nothing) */
		if (s[k] < 0.0)
			return sf_fail(env, SF_EINVAL, "sales sample %zu is %g; sales cannot be negative", k + 1, s[k]);
	}
	out->c = sf_malloc(env, n * sizeof(double));
	if (out->c == NULL)
		return sf_fail(env, SF_ENOMEM, "out of memory for %zu sales samples", n);
	for (k = 0; k < n; k++)
		out->c[k] = sf_risk_capacity(terms, s[k]);
	out->atom = 1.0 / (double) n;
	return finish_samples(env, out, n);
}

void
sf_risk_eval_free(sf_env *env, sf_risk_eval *ev)
{
	if (ev != NULL)
		sf_free_clear(env, &ev->c, &ev->pc);
}

/* Number of capacities strictly below t (lower bound in the sorted array). */
static size_t
count_below(const sf_risk_eval *ev, double t)
{
	size_t		lo = 0,
				hi = ev->K;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (ev->c[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The measures that follow from PD and EL. */
static inline void
derive(sf_risk_row *row, const sf_risk_terms *tm)
{
	double		L = row->loan,
				t = row->due;

	row->profit = t - row->el + tm->fee * L - (1.0 + tm->funding_rate) * L;
	row->elgd = row->pd > 0.0 ? row->el / row->pd : NAN;
	row->lgd_rate = row->pd > 0.0 && t > 0.0 ? row->el / (row->pd * t) : NAN;
}

/*
 * sf_risk_point with the curve's segment walked from *seg (NULL: searched).
 * Where P < F, P is 1 - a exactly, so I_P is the evaluator's i_var: one
 * integral per curve rather than one per loan.
 */
static void
risk_point(const sf_risk_eval *ev, double L, sf_risk_row *row, int *seg)
{
	const sf_risk_terms *tm = &ev->terms;
	double		t = (1.0 + tm->rate) * L;
	double		a = tm->level;

	row->loan = L;
	row->due = t;
	if (ev->curve != NULL)
	{
		double		th = (t - ev->r0) / ev->kappa;
		double		F;
		double		I = sf_qcurve_partial_walk(ev->curve, th, &F, seg);
		double		P = F < 1.0 - a ? F : 1.0 - a;
		double		IP = P < F ? ev->i_var : I;

		row->pd = F;
		row->el = ev->kappa * (th * F - I);
		row->cvar = ev->kappa * (th * P - IP) / (1.0 - a);
		row->var = th > ev->q_var ? ev->kappa * (th - ev->q_var) : 0.0;
	}
	else
	{
		size_t		j = count_below(ev, t);
		size_t		jm = j < ev->kk ? j : ev->kk;
		double		K = (double) ev->K;

		row->pd = (double) j / K;
		row->el = ((double) j * t - ev->pc[j]) / K;
		row->cvar = ((double) jm * t - ev->pc[jm]) / (double) ev->kk;
		row->var = t > ev->c[ev->kk - 1] ? t - ev->c[ev->kk - 1] : 0.0;
	}
	/* sums of non-negative terms: clear rounding residue below zero */
	if (row->el < 0.0)
		row->el = 0.0;
	if (row->cvar < 0.0)
		row->cvar = 0.0;
	derive(row, tm);
	/*
	 * Below the first knot (or sample) the model puts an atom: the true PD
	 * anywhere in [0, atom) reads as 0, and above the last one anything in
	 * (1 - atom, 1] reads as 1.
	 */
	row->tail_resolved = row->pd >= ev->atom * (1.0 - 1e-9) &&
		row->pd <= 1.0 - ev->atom * (1.0 - 1e-9);
}

void
sf_risk_point(const sf_risk_eval *ev, double L, sf_risk_row *row)
{
	risk_point(ev, L, row, NULL);
}

sf_status
sf_risk_curve(sf_env *env, const sf_risk_eval *ev, const double *loans, size_t n,
			  sf_risk_row *rows)
{
	size_t		i;
	int			seg = 0;		/* the loans are sorted: one walk over the knots */

	for (i = 0; i < n; i++)
	{
		if (isnan(loans[i]))
			return sf_fail(env, SF_EDATA, "loan %zu is NaN", i + 1);
		if (!isfinite(loans[i]))
			return sf_fail(env, SF_EDATA, "loan %zu is infinite", i + 1);
		if (loans[i] < 0.0)
			return sf_fail(env, SF_EDATA, "loan %zu is negative (%g)", i + 1, loans[i]);
		if (i > 0 && loans[i] < loans[i - 1])
			return sf_fail(env, SF_EDATA,
						   "loans must be sorted in increasing order: loan %zu (%g) is below loan %zu (%g)",
						   i + 1, loans[i], i, loans[i - 1]);
	}
	for (i = 0; i < n; i++)
	{
		sf_risk_row *r = &rows[i];

		if ((i & 4095) == 4095 && sf_interrupted(env))
			return sf_fail(env, SF_ECANCEL, "loan risk curve cancelled");
		risk_point(ev, loans[i], r, &seg);
		if (i > 0)
		{
			/* the measures are non-decreasing in L; keep rounding from saying otherwise */
			const sf_risk_row *p = &rows[i - 1];

			if (r->pd < p->pd)
				r->pd = p->pd;
			if (r->el < p->el)
				r->el = p->el;
			if (r->var < p->var)
				r->var = p->var;
			if (r->cvar < p->cvar)
				r->cvar = p->cvar;
			derive(r, &ev->terms);
		}
	}
	return SF_OK;
}
