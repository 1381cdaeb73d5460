/*
 * risk_size.c
 *	  Loan sizing under a policy (methods/qrgmm_scf.md section 6.4).
 *
 * Each limit is the largest loan meeting one condition that is monotone in
 * L: PD(L) <= pd_limit; EL(L) <= el_rate L (EL / t = E[(1 - C/t)^+] is
 * non-decreasing when C >= 0); CVaR_a(L) <= cvar_budget; plus the hard caps
 * ltv_cap V and credit_line.  The profit optimum needs no search of its own:
 * Profit(L) is concave with derivative (1 + r)(1 - PD(L)) + fee - (1 + r_f),
 * so it is the largest L with PD(L) <= (r + fee - r_f) / (1 + r), the
 * newsvendor critical fractile.  Each sup{L : ok(L)} is found by bracketing
 * (doubling from the loan whose due equals the largest capacity) and then
 * bisection to 1e-12 relative, which is exact on the step functions of the
 * sample path too.  The recommended loan is the minimum of the active limits
 * and the first of the minimal ones (in the order pd_limit, el_rate,
 * cvar_budget, ltv_cap, credit_line, profit_optimum) is reported as binding.
 */
#include <math.h>

#include "scfrisk/sf_risk.h"

#define SIZE_MAX_DOUBLINGS	200
#define SIZE_MAX_BISECT		200
#define SIZE_REL_TOL		1e-12

typedef enum
{
	COND_PD,					/* pd <= x */
	COND_EL_RATE,				/* el <= x L */
	COND_CVAR					/* cvar <= x */
} cond_kind;

static int
cond_ok(const sf_risk_eval *ev, cond_kind kind, double x, double L)
{
	sf_risk_row r;

	sf_risk_point(ev, L, &r);
	switch (kind)
	{
		case COND_PD:
			return r.pd <= x;
		case COND_EL_RATE:
			return r.el <= x * L;
		case COND_CVAR:
			return r.cvar <= x;
	}
	return 0;
}

/* sup{L >= 0 : ok(L)} for a condition that holds up to a point; INFINITY if always. */
static double
largest_loan(sf_env *env, const sf_risk_eval *ev, cond_kind kind, double x)
{
	double		lo = 0.0,
				hi;
	int			i;

	if (!cond_ok(ev, kind, x, 0.0))
		return 0.0;
	/* the loan whose due equals the largest capacity: PD is 1 beyond it */
	hi = ev->c_max / (1.0 + ev->terms.rate);
	if (!(hi > 0.0) || !isfinite(hi))
		hi = 1.0;
	for (i = 0; i < SIZE_MAX_DOUBLINGS; i++)
	{
		if (!cond_ok(ev, kind, x, hi))
			break;
		lo = hi;
		hi *= 2.0;
		if (!isfinite(hi))
			return INFINITY;
	}
	if (i == SIZE_MAX_DOUBLINGS)
		return INFINITY;
	for (i = 0; i < SIZE_MAX_BISECT && hi - lo > SIZE_REL_TOL * hi; i++)
	{
		double		mid = 0.5 * (lo + hi);

		if (cond_ok(ev, kind, x, mid))
			lo = mid;
		else
			hi = mid;
		if ((i & 31) == 31)
			(void) sf_interrupted(env);
	}
	return lo;
}

sf_status
sf_risk_limits(sf_env *env, const sf_risk_eval *ev, const sf_risk_policy *policy, double *limits)
{
	const sf_risk_terms *tm = &ev->terms;
	int			b;

	for (b = 0; b < SF_BIND_COUNT; b++)
		limits[b] = INFINITY;
	if (policy->pd_limit < 1.0)
		limits[SF_BIND_PD_LIMIT] = largest_loan(env, ev, COND_PD, policy->pd_limit);
	if (policy->el_rate > 0.0)
		limits[SF_BIND_EL_RATE] = largest_loan(env, ev, COND_EL_RATE, policy->el_rate);
	if (policy->cvar_budget > 0.0)
		limits[SF_BIND_CVAR_BUDGET] = largest_loan(env, ev, COND_CVAR, policy->cvar_budget);
	if (policy->ltv_cap > 0.0 && tm->collateral_value > 0.0)
		limits[SF_BIND_LTV_CAP] = policy->ltv_cap * tm->collateral_value;
	if (policy->credit_line > 0.0)
		limits[SF_BIND_CREDIT_LINE] = policy->credit_line;
	if (policy->profit_optimum)
	{
		double		fractile = (tm->rate + tm->fee - tm->funding_rate) / (1.0 + tm->rate);

		/* a margin that is not positive makes every loan lose money */
		limits[SF_BIND_PROFIT_OPTIMUM] = fractile <= 0.0 ? 0.0
			: fractile >= 1.0 ? INFINITY
			: largest_loan(env, ev, COND_PD, fractile);
	}
	if (sf_interrupted(env))
		return sf_fail(env, SF_ECANCEL, "loan sizing cancelled");
	return SF_OK;
}

sf_status
sf_risk_size_loan(sf_env *env, const sf_risk_eval *ev, const sf_risk_policy *policy,
				  sf_risk_size *out)
{
	int			b;
	sf_status	st = sf_risk_limits(env, ev, policy, out->limits);

	if (st != SF_OK)
		return st;

	out->binding = SF_BIND_COUNT;
	out->loan = INFINITY;
	for (b = 0; b < SF_BIND_COUNT; b++)
		if (out->limits[b] < out->loan)
		{
			out->loan = out->limits[b];
			out->binding = (sf_risk_binding) b;
		}
	if (out->binding == SF_BIND_COUNT)
		return sf_fail(env, SF_EINVAL,
					   "no limit bounds the loan: set pd_limit below 1, el_rate, cvar_budget, "
					   "credit_line, ltv_cap with collateral_value, or profit_optimum");
	sf_risk_point(ev, out->loan, &out->at);
	return SF_OK;
}
