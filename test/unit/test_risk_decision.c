/*
 * test_risk_decision.c
 *	  Unit tests of the lending decision (sf_risk_decide) against closed
 *	  forms: on the uniform law U(0, 1) (exact curve, rate 0) the sales PD of
 *	  a loan L is L, and a logistic credit PD 1 / (1 + e^-(a + b L)) meets a
 *	  limit c up to L = (logit c - a) / b; so each limit, either one binding,
 *	  and the combined limits (max in closed form, independent and union
 *	  bound by a bisection of their own equation) have known loans.  Then the
 *	  downward scan on a credit PD that is not monotone, and every verdict.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_risk.h"
#include "sf_test.h"

#define M_GRID 100

typedef struct logistic
{
	double		a,
				b;
	double		bump_lo,		/* PD 0.5 on (bump_lo, bump_hi) when bump_hi > 0 */
				bump_hi;
	int			nan;			/* return NaN */
	int			calls;
} logistic;

static double
logistic_pd(void *ctx, double L)
{
	logistic   *g = (logistic *) ctx;

	g->calls++;
	if (g->nan)
		return NAN;
	if (g->bump_hi > 0 && L > g->bump_lo && L < g->bump_hi)
		return 0.5;
	return 1.0 / (1.0 + exp(-(g->a + g->b * L)));
}

static double
logit(double p)
{
	return log(p / (1.0 - p));
}

/* U(0,1) on the identity scale: knots j/m */
static void
uniform_eval(sf_env *env, sf_qcurve *c, sf_risk_eval *ev)
{
	double		q[M_GRID];
	sf_risk_terms t;
	int			j;

	for (j = 1; j < M_GRID; j++)
		q[j - 1] = (double) j / M_GRID;
	if (sf_qcurve_build(env, q, M_GRID, SF_TRANSFORM_IDENTITY, c) != SF_OK)
		abort();
	sf_params_defaults(&sf_risk_terms_table, &t);
	t.rate = 0.0;
	if (sf_risk_eval_curve(env, &t, c, ev) != SF_OK)
		abort();
}

/* pd_limit alpha only: no EL rate, no profit cap, no LTV cap, no credit limit */
static void
base_policy(sf_risk_decision_policy *p, double alpha)
{
	sf_params_defaults(&sf_risk_decision_table, p);
	p->base.terms.rate = 0.0;
	p->base.pd_limit = alpha;
	p->base.el_rate = 0.0;
	p->base.profit_optimum = 0;
	p->base.ltv_cap = 0.0;
}

static sf_risk_decision
decide(sf_env *env, const sf_risk_eval *ev, logistic *g, unsigned why,
	   const sf_risk_decision_policy *p)
{
	sf_risk_decision_in in = {ev, g ? logistic_pd : NULL, g, why};
	sf_risk_decision d;

	if (sf_risk_decide(env, &in, p, &d) != SF_OK)
		abort();
	return d;
}

/* sup{L : f(L) <= k} for f rising on [lo, hi] */
static double
solve(double (*f) (double, logistic *), logistic *g, double k, double lo, double hi)
{
	int			i;

	for (i = 0; i < 200; i++)
	{
		double		mid = 0.5 * (lo + hi);

		if (f(mid, g) <= k)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static double
indep(double L, logistic *g)
{
	return 1.0 - (1.0 - L) * (1.0 - logistic_pd(g, L));
}

static double
union_bound(double L, logistic *g)
{
	return L + logistic_pd(g, L);
}

SF_TEST(test_each_limit_binds)
{
	sf_env		env;
	sf_qcurve	c;
	sf_risk_eval ev;
	sf_risk_decision_policy p;
	sf_risk_decision d;
	logistic	g = {-5, 10, 0, 0, 0, 0};

	sf_env_init_malloc(&env);
	uniform_eval(&env, &c, &ev);
	base_policy(&p, 0.3);
	SF_NEAR(p.credit_pd_limit, 1.0, 0, "no credit limit by default");
	SF_OK(p.pd_combine == SF_COMBINE_MAX && p.combined_pd_limit == 1.0, "combine max, no combined limit");

	/* the credit limit binds: L = (logit 0.05 + 5) / 10 */
	p.credit_pd_limit = 0.05;
	d = decide(&env, &ev, &g, 0, &p);
	SF_NEAR(d.loan, (logit(0.05) + 5) / 10, 1e-7, "credit-bound loan = (logit c - a) / b");
	SF_OK(d.binding == SF_DBIND_CREDIT_PD, "binding credit_pd_limit");
	SF_NEAR(d.credit_pd, 0.05, 1e-6, "credit PD at the loan = the limit");
	SF_NEAR(d.at.pd, d.loan, 1e-12, "sales PD of U(0,1) = L");
	SF_NEAR(d.limits[SF_BIND_PD_LIMIT], 0.3, 1e-9, "the sales limit still reported");
	SF_OK(d.verdict == SF_APPROVE && d.why == 0, "approve, no reason");

	/* the sales limit binds: the credit loan (0.5) lies beyond 0.3 */
	p.credit_pd_limit = 0.5;
	g.calls = 0;
	d = decide(&env, &ev, &g, 0, &p);
	SF_NEAR(d.loan, 0.3, 1e-9, "sales-bound loan = alpha");
	SF_OK(d.binding == SF_BIND_PD_LIMIT, "binding pd_limit");
	SF_NEAR(d.credit_pd, 1.0 / (1.0 + exp(-(-5 + 3))), 1e-9, "credit PD at the sales loan");
	SF_OK(g.calls == 2, "a credit limit met at the sales loan costs one evaluation (and one for the PD)");
	SF_NEAR(d.combined_pd, fmax(d.at.pd, d.credit_pd), 0, "combined PD is the max");
	sf_risk_eval_free(&env, &ev);
	sf_qcurve_free(&env, &c);
}

SF_TEST(test_combined_limits)
{
	sf_env		env;
	sf_qcurve	c;
	sf_risk_eval ev;
	sf_risk_decision_policy p;
	sf_risk_decision d;
	logistic	g = {-3, 10, 0, 0, 0, 0};

	sf_env_init_malloc(&env);
	uniform_eval(&env, &c, &ev);
	base_policy(&p, 0.5);
	p.combined_pd_limit = 0.25;

	/* max: both PDs <= k, so L = min(k, (logit k + 3) / 10) = 0.19... */
	d = decide(&env, &ev, &g, 0, &p);
	SF_NEAR(d.loan, fmin(0.25, (logit(0.25) + 3) / 10), 1e-7, "max: L = min(L_sales(k), L_credit(k))");
	SF_OK(d.binding == SF_DBIND_COMBINED_PD, "binding combined_pd_limit");
	SF_NEAR(d.combined_pd, 0.25, 1e-6, "combined PD at the loan = the limit");

	p.pd_combine = SF_COMBINE_INDEPENDENT;
	d = decide(&env, &ev, &g, 0, &p);
	SF_NEAR(d.loan, solve(indep, &g, 0.25, 0, 0.5), 1e-7, "independent: 1 - (1 - L)(1 - pc(L)) = k");
	SF_NEAR(d.combined_pd, 1 - (1 - d.at.pd) * (1 - d.credit_pd), 1e-12, "independent combination");

	p.pd_combine = SF_COMBINE_UNION_BOUND;
	d = decide(&env, &ev, &g, 0, &p);
	SF_NEAR(d.loan, solve(union_bound, &g, 0.25, 0, 0.5), 1e-7, "union bound: L + pc(L) = k");
	SF_NEAR(d.combined_pd, d.at.pd + d.credit_pd, 1e-12, "union bound combination");
	SF_OK(d.verdict == SF_APPROVE, "approve");
	sf_risk_eval_free(&env, &ev);
	sf_qcurve_free(&env, &c);
}

SF_TEST(test_not_monotone)
{
	sf_env		env;
	sf_qcurve	c;
	sf_risk_eval ev;
	sf_risk_decision_policy p;
	sf_risk_decision d;
	logistic	g = {-8, 1, 0.1, 0.15, 0, 0};

	sf_env_init_malloc(&env);
	uniform_eval(&env, &c, &ev);
	base_policy(&p, 0.3);
	p.credit_pd_limit = 0.05;
	/* a bump below the sales loan does not matter: the loan 0.3 meets the limit */
	d = decide(&env, &ev, &g, 0, &p);
	SF_NEAR(d.loan, 0.3, 1e-9, "bump below the loan: the sales loan stands");
	/* a bump over it: the largest loan below the bump, 0.25 */
	g.bump_lo = 0.25;
	g.bump_hi = 0.35;
	d = decide(&env, &ev, &g, 0, &p);
	SF_NEAR(d.loan, 0.25, 1e-7, "bump over the loan: the largest loan below it");
	SF_OK(d.binding == SF_DBIND_CREDIT_PD, "binding credit_pd_limit");
	sf_risk_eval_free(&env, &ev);
	sf_qcurve_free(&env, &c);
}

SF_TEST(test_verdicts)
{
	sf_env		env;
	sf_qcurve	c;
	sf_risk_eval ev;
	sf_risk_decision_policy p;
	sf_risk_decision d;
	logistic	g = {-5, 10, 0, 0, 0, 0};

	sf_env_init_malloc(&env);
	uniform_eval(&env, &c, &ev);
	base_policy(&p, 0.3);

	d = decide(&env, NULL, &g, SF_WHY_MISSING_COVARIATES, &p);
	SF_OK(d.verdict == SF_REFER && isnan(d.loan) && d.why == SF_WHY_MISSING_COVARIATES,
		  "missing covariates: refer, nothing computed");
	d = decide(&env, NULL, NULL, 0, &p);
	SF_OK(d.verdict == SF_REFER && d.why == SF_WHY_NO_MODEL, "no sales evaluator: refer, no_model");

	p.base.pd_limit = 0.02;		/* below 5 / m = 0.05 */
	d = decide(&env, &ev, &g, 0, &p);
	SF_NEAR(d.reliable_pd, 0.05, 1e-15, "smallest reliable PD = 5 atoms");
	SF_OK(d.verdict == SF_REFER && (d.why & SF_WHY_UNRELIABLE_LIMIT), "PD limit below 5/m: refer");

	/*
	 * A loan below the first knot 1/m: the tail's worst case is PD 1/m and
	 * EL t/m = 5e-5, which breaks an el_rate of 0.005 (0.005 L = 2.5e-5) but
	 * not one of 0.02 (1e-4), nor a pd_limit of 0.05.
	 */
	base_policy(&p, 0.05);
	p.base.credit_line = 0.005;
	p.base.el_rate = 0.005;
	d = decide(&env, &ev, &g, 0, &p);
	SF_OK(d.verdict == SF_REFER && d.why == SF_WHY_UNRESOLVED_TAIL && d.binding == SF_BIND_CREDIT_LINE &&
		  !d.at.tail_resolved, "a loan in the unresolved tail whose worst case breaks el_rate: refer");
	p.base.el_rate = 0.02;
	d = decide(&env, &ev, &g, 0, &p);
	SF_OK(d.verdict == SF_APPROVE && !d.at.tail_resolved,
		  "a loan in the unresolved tail that meets every limit at the worst case: approve");

	base_policy(&p, 0.3);
	p.credit_pd_limit = 0.001;	/* pc(0) = 0.0067 already exceeds it */
	d = decide(&env, &ev, &g, 0, &p);
	SF_OK(d.verdict == SF_DECLINE && d.loan == 0.0 && d.why == SF_WHY_BELOW_MIN,
		  "no loan meets the credit limit: decline");
	d = decide(&env, &ev, NULL, 0, &p);
	SF_OK(d.verdict == SF_REFER && (d.why & SF_WHY_NO_CREDIT_MODEL), "credit limit without a model: refer");
	d = decide(&env, &ev, NULL, SF_WHY_MISSING_CREDIT, &p);
	SF_OK(d.verdict == SF_REFER && d.why == SF_WHY_MISSING_CREDIT, "missing credit features: refer");
	g.nan = 1;
	d = decide(&env, &ev, &g, 0, &p);
	SF_OK(d.verdict == SF_REFER && (d.why & SF_WHY_CREDIT_UNSCORED), "an unscorable credit model: refer");
	g.nan = 0;
	p.credit_pd_limit = 1.0;
	d = decide(&env, &ev, NULL, SF_WHY_MISSING_CREDIT, &p);
	SF_OK(d.verdict == SF_APPROVE, "missing credit features without a credit limit: not decisive");

	p.base.ltv_cap = 0.5;
	d = decide(&env, &ev, &g, SF_WHY_MISSING_COLLATERAL, &p);
	SF_OK(d.verdict == SF_REFER && d.why == SF_WHY_MISSING_COLLATERAL && !isfinite(d.limits[SF_BIND_LTV_CAP]),
		  "LTV cap without collateral: refer");
	p.base.terms.collateral_value = 0.0;
	d = decide(&env, &ev, &g, 0, &p);
	SF_OK(d.verdict == SF_DECLINE && d.loan == 0.0 && d.binding == SF_BIND_LTV_CAP,
		  "LTV cap on a collateral of 0: loan 0, decline");
	p.base.terms.collateral_value = 0.4;
	p.min_loan = 0.25;
	d = decide(&env, &ev, &g, 0, &p);
	SF_OK(d.verdict == SF_DECLINE && fabs(d.loan - 0.2) < 1e-12 && d.binding == SF_BIND_LTV_CAP,
		  "a loan at most min_loan: decline");

	base_policy(&p, 1.0);
	{
		sf_risk_decision_in in = {&ev, NULL, NULL, 0};

		SF_OK(sf_risk_decide(&env, &in, &p, &d) == SF_EINVAL, "no sales-side limit: an error");
	}
	SF_OK(strcmp(sf_risk_decision_binding_name(SF_DBIND_CREDIT_PD), "credit_pd_limit") == 0 &&
		  strcmp(sf_risk_reason_name(6), "unreliable_pd_limit") == 0 &&
		  strcmp(sf_verdict_name(SF_DECLINE), "decline") == 0, "names");
	sf_risk_eval_free(&env, &ev);
	sf_qcurve_free(&env, &c);
}

int
main(void)
{
	SF_RUN(test_each_limit_binds);
	SF_RUN(test_combined_limits);
	SF_RUN(test_not_monotone);
	SF_RUN(test_verdicts);
	return sf_test_done();
}
