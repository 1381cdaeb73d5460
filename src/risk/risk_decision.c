/*
 * risk_decision.c
 *	  The lending decision (issue 16): the sales model's limits, the credit
 *	  model's PD of the loan, their combination, and a verdict with its
 *	  reasons (sf_risk.h, docs/risk.md "The lending decision").
 *
 * The loan is the largest one meeting every limit.  The sales-side limits
 * are sf_risk_limits' (each monotone in the loan), except the LTV cap, which
 * the decision applies itself: under loan_decision a collateral value of 0
 * caps the loan at 0 and a missing one makes the verdict refer, where
 * loan_size reads both as "no cap".  The credit PD and the combined PD need
 * not rise with the loan (the credit model is any scorer), so their limits
 * are searched below the sales-side loan Ls only: the largest loan there
 * whose PD meets the limit, by a downward scan and a bisection (see the
 * header).  The verdict: refer when any input is missing or the model
 * cannot resolve the policy (a PD limit below the smallest reliable PD, a
 * binding profit optimum whose critical fractile lies below it, the
 * chosen loan in the unresolved tail where the worst case that tail allows
 * would break a limit, an unscorable credit model); else
 * decline when the loan is at most min_loan; else approve.
 */
#include <math.h>

#include "scfrisk/sf_risk.h"

#define DECIDE_REL_TOL		1e-7	/* bisection of the credit limits, relative to Ls */
#define DECIDE_MAX_BISECT	80

static const char *const decision_bindings[SF_DBIND_COUNT - SF_BIND_COUNT] = {
	"credit_pd_limit", "combined_pd_limit"
};

const char *
sf_risk_decision_binding_name(int b)
{
	if (b >= 0 && b < SF_BIND_COUNT)
		return sf_risk_binding_name((sf_risk_binding) b);
	if (b >= SF_BIND_COUNT && b < SF_DBIND_COUNT)
		return decision_bindings[b - SF_BIND_COUNT];
	return "none";
}

static const char *const verdicts[] = {"approve", "refer", "decline"};

const char *
sf_verdict_name(sf_verdict v)
{
	return (int) v >= 0 && v <= SF_DECLINE ? verdicts[v] : "unknown";
}

static const char *const reasons[SF_WHY_COUNT] = {
	"no_model", "missing_covariates", "missing_collateral", "no_credit_model",
	"missing_credit_features", "credit_pd_unavailable", "unreliable_pd_limit",
	"unresolved_tail", "below_min_loan"
};

const char *
sf_risk_reason_name(int bit)
{
	return bit >= 0 && bit < SF_WHY_COUNT ? reasons[bit] : "unknown";
}

double
sf_pd_combine_apply(int rule, double ps, double pc)
{
	if (isnan(pc))
		return ps;
	switch (rule)
	{
		case SF_COMBINE_INDEPENDENT:
			return 1.0 - (1.0 - ps) * (1.0 - pc);
		case SF_COMBINE_UNION_BOUND:
			return fmin(1.0, ps + pc);
		default:
			return fmax(ps, pc);
	}
}

/* What a credit-side limit checks at a loan. */
typedef struct credit_check
{
	const sf_risk_decision_in *in;
	const sf_risk_decision_policy *policy;
	int			combined;		/* 0: credit PD <= limit; 1: combined PD <= limit */
	int			unscored;		/* a NaN PD was seen */
} credit_check;

static int
check_ok(credit_check *cc, double L)
{
	double		pc = cc->in->credit_pd(cc->in->credit_ctx, L);

	if (isnan(pc))
	{
		/* an unscorable loan fails the limit (and the verdict refers) */
		cc->unscored = 1;
		return 0;
	}
	if (!cc->combined)
		return pc <= cc->policy->credit_pd_limit;
	{
		sf_risk_row r;

		sf_risk_point(cc->in->ev, L, &r);
		return sf_pd_combine_apply(cc->policy->pd_combine, r.pd, pc)
			<= cc->policy->combined_pd_limit;
	}
}

/*
 * The largest L in [0, hi] with check_ok(L): hi itself, or the scan of G
 * loans hi (G-1)/G, ..., hi/G, 0 downwards to the first that passes, then
 * bisection between it and the failing loan above it.  0 when none passes
 * (the loan 0 is then declined by the verdict, not approved).
 */
static double
largest_credit_loan(sf_env *env, credit_check *cc, double hi)
{
	int			G = cc->policy->credit_grid;
	int			g,
				i;
	double		lo,
				bad;

	if (!(hi > 0.0) || check_ok(cc, hi))
		return hi > 0.0 ? hi : 0.0;
	bad = hi;
	for (g = G - 1; g >= 0; g--)
	{
		double		L = hi * (double) g / (double) G;

		if (check_ok(cc, L))
			break;
		bad = L;
		if ((g & 15) == 0)
			(void) sf_interrupted(env);
	}
	if (g < 0)
		return 0.0;
	lo = hi * (double) g / (double) G;
	for (i = 0; i < DECIDE_MAX_BISECT && bad - lo > DECIDE_REL_TOL * hi; i++)
	{
		double		mid = 0.5 * (lo + bad);

		if (check_ok(cc, mid))
			lo = mid;
		else
			bad = mid;
		if ((i & 15) == 15)
			(void) sf_interrupted(env);
	}
	return lo;
}

/* The sales-side limits with the decision's LTV rule; the minimum into *ls. */
static sf_status
sales_limits(sf_env *env, const sf_risk_decision_in *in, const sf_risk_decision_policy *policy,
			 sf_risk_decision *out, double *ls)
{
	sf_risk_policy base = policy->base;
	sf_status	st;
	int			b;

	base.ltv_cap = 0.0;			/* applied below, with a collateral of 0 meaning 0 */
	st = sf_risk_limits(env, in->ev, &base, out->limits);
	if (st != SF_OK)
		return st;
	if (policy->base.ltv_cap > 0.0 && !(in->why & SF_WHY_MISSING_COLLATERAL))
		out->limits[SF_BIND_LTV_CAP] = policy->base.ltv_cap * policy->base.terms.collateral_value;
	*ls = INFINITY;
	for (b = 0; b < SF_BIND_COUNT; b++)
		if (out->limits[b] < *ls)
		{
			*ls = out->limits[b];
			out->binding = b;
		}
	if (!isfinite(*ls))
		return sf_fail(env, SF_EINVAL,
					   "no sales-side limit bounds the loan: set pd_limit below 1, el_rate, cvar_budget, "
					   "credit_line, ltv_cap with collateral_value, or profit_optimum (the credit limits "
					   "only lower the sales-side loan)");
	return SF_OK;
}

/*
 * A PD limit of the policy that the sales model cannot resolve (below 5
 * atoms): pd_limit or combined_pd_limit always, since the policy states
 * them; the profit optimum's critical fractile only when it sets the loan,
 * since it is a consequence of the prices rather than a stated limit.
 */
static int
unreliable_limits(const sf_risk_decision_policy *policy, int binding, double reliable)
{
	const sf_risk_terms *tm = &policy->base.terms;
	double		fractile = (tm->rate + tm->fee - tm->funding_rate) / (1.0 + tm->rate);

	/* a limit equal to 5/m is reliable, whatever the rounding of 5 * (1/m) */
	reliable *= 1.0 - 1e-12;
	return (policy->base.pd_limit < 1.0 && policy->base.pd_limit < reliable) ||
		(policy->combined_pd_limit < 1.0 && policy->combined_pd_limit < reliable) ||
		(binding == SF_BIND_PROFIT_OPTIMUM && fractile > 0.0 && fractile < reliable);
}

/*
 * Whether the policy holds at loan L whatever the law does in the tail the
 * model does not resolve.  Below the first fitted level the model knows only
 * that PD < atom (1/m); the loss is at most the due t; so PD <= atom,
 * EL <= t atom and CVaR <= t min(1, atom / (1 - a)) bound every law the data
 * allow, and the policy is resolved when each active sales-side limit holds
 * at these bounds.  Above the last level (PD reads 1) nothing is resolved.
 */
static int
tail_policy_holds(const sf_risk_eval *ev, const sf_risk_decision_policy *policy,
				  const sf_risk_row *at, double credit_pd)
{
	const sf_risk_policy *b = &policy->base;
	double		atom = ev->atom;
	double		t = at->due;

	if (at->pd > 0.5)
		return 0;
	if (b->pd_limit < 1.0 && atom > b->pd_limit)
		return 0;
	if (policy->combined_pd_limit < 1.0 &&
		sf_pd_combine_apply(policy->pd_combine, atom, credit_pd) > policy->combined_pd_limit)
		return 0;
	if (b->el_rate > 0.0 && t * atom > b->el_rate * at->loan)
		return 0;
	if (b->cvar_budget > 0.0 && t * fmin(1.0, atom / (1.0 - b->terms.level)) > b->cvar_budget)
		return 0;
	return 1;
}

static void
decision_init(sf_risk_decision *out, unsigned why)
{
	int			b;

	out->verdict = SF_REFER;
	out->why = why;
	out->loan = NAN;
	out->binding = -1;
	for (b = 0; b < SF_DBIND_COUNT; b++)
		out->limits[b] = INFINITY;
	out->credit_pd = NAN;
	out->combined_pd = NAN;
	out->reliable_pd = NAN;
}

sf_status
sf_risk_decide(sf_env *env, const sf_risk_decision_in *in, const sf_risk_decision_policy *policy,
			   sf_risk_decision *out)
{
	int			credit_on = policy->credit_pd_limit < 1.0;
	int			combined_on = policy->combined_pd_limit < 1.0;
	double		loan;
	sf_status	st;

	decision_init(out, in->why);
	if (in->ev == NULL || (in->why & (SF_WHY_NO_MODEL | SF_WHY_MISSING_COVARIATES)))
	{
		if (!(out->why & (SF_WHY_NO_MODEL | SF_WHY_MISSING_COVARIATES)))
			out->why |= SF_WHY_NO_MODEL;
		return SF_OK;			/* nothing to compute: refer */
	}
	out->reliable_pd = fmin(1.0, RISK_RELIABLE_ATOMS * in->ev->atom);
	st = sales_limits(env, in, policy, out, &loan);
	if (st != SF_OK)
		return st;
	if (in->credit_pd != NULL)
	{
		credit_check cc = {in, policy, 0, 0};

		if (credit_on)
		{
			out->limits[SF_DBIND_CREDIT_PD] = largest_credit_loan(env, &cc, loan);
			if (out->limits[SF_DBIND_CREDIT_PD] < loan)
			{
				loan = out->limits[SF_DBIND_CREDIT_PD];
				out->binding = SF_DBIND_CREDIT_PD;
			}
		}
		if (combined_on)
		{
			cc.combined = 1;
			out->limits[SF_DBIND_COMBINED_PD] = largest_credit_loan(env, &cc, loan);
			if (out->limits[SF_DBIND_COMBINED_PD] < loan)
			{
				loan = out->limits[SF_DBIND_COMBINED_PD];
				out->binding = SF_DBIND_COMBINED_PD;
			}
		}
		out->credit_pd = in->credit_pd(in->credit_ctx, loan);
		if (cc.unscored || isnan(out->credit_pd))
			out->why |= SF_WHY_CREDIT_UNSCORED;
	}
	else if ((credit_on || combined_on) && !(out->why & SF_WHY_MISSING_CREDIT))
		out->why |= SF_WHY_NO_CREDIT_MODEL;
	if (sf_interrupted(env))
		return sf_fail(env, SF_ECANCEL, "loan decision cancelled");

	/* without a credit-side limit the credit PD is reported, never decisive */
	if (!credit_on && !combined_on)
		out->why &= ~(SF_WHY_MISSING_CREDIT | SF_WHY_CREDIT_UNSCORED);
	out->loan = loan;
	sf_risk_point(in->ev, loan, &out->at);
	out->combined_pd = sf_pd_combine_apply(policy->pd_combine, out->at.pd, out->credit_pd);
	if (unreliable_limits(policy, out->binding, out->reliable_pd))
		out->why |= SF_WHY_UNRELIABLE_LIMIT;
	if (loan > 0.0 && !out->at.tail_resolved &&
		!tail_policy_holds(in->ev, policy, &out->at, out->credit_pd))
		out->why |= SF_WHY_UNRESOLVED_TAIL;
	if (!(loan > policy->min_loan))
		out->why |= SF_WHY_BELOW_MIN;
	out->verdict = (out->why & ~SF_WHY_BELOW_MIN) ? SF_REFER
		: (out->why & SF_WHY_BELOW_MIN) ? SF_DECLINE : SF_APPROVE;
	return SF_OK;
}
