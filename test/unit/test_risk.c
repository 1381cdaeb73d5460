/*
 * test_risk.c
 *	  Unit tests of the loan-risk core (sf_risk.h) against closed forms:
 *	  a uniform curve (every functional by hand), the lognormal law of
 *	  methods/qrgmm_scf.md section 8.2 on a fine exact-knot curve, brute-force
 *	  sample averages for the sample path and the collateral preset, loan
 *	  sizing against L_PD(alpha) and the profit critical fractile, and every
 *	  bad input.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_risk.h"
#include "sf_test.h"

static double
Phi(double z)
{
	return 0.5 * erfc(-z / sqrt(2.0));
}

static double
Phi_inv(double p)
{
	double		lo = -40,
				hi = 40;
	int			i;

	for (i = 0; i < 200; i++)
	{
		double		mid = 0.5 * (lo + hi);

		if (Phi(mid) < p)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

static void
default_terms(sf_risk_terms *t)
{
	sf_params_defaults(&sf_risk_terms_table, t);
}

/* identity curve of U(0,1): knots j/m */
static void
uniform_curve(sf_env *env, int m, sf_qcurve *c)
{
	double	   *q = malloc(sizeof(double) * m);
	int			j;

	for (j = 1; j < m; j++)
		q[j - 1] = (double) j / m;
	if (sf_qcurve_build(env, q, m, SF_TRANSFORM_IDENTITY, c) != SF_OK)
		abort();
	free(q);
}

/* log1p curve with knots at exact lognormal(mu, sig) quantiles and a tail rule */
static void
lognormal_curve_tail(sf_env *env, int m, double mu, double sig, sf_tail_rule tail, sf_qcurve *c)
{
	double	   *q = malloc(sizeof(double) * m);
	int			j;

	for (j = 1; j < m; j++)
		q[j - 1] = log1p(exp(mu + sig * Phi_inv((double) j / m)));
	if (sf_qcurve_build_tail(env, q, m, SF_TRANSFORM_LOG1P, tail, c) != SF_OK)
		abort();
	free(q);
}

static void
lognormal_curve(sf_env *env, int m, double mu, double sig, sf_qcurve *c)
{
	lognormal_curve_tail(env, m, mu, sig, SF_TAIL_FLAT, c);
}

SF_TEST(test_defaults)
{
	sf_risk_terms t;
	sf_risk_policy p;

	default_terms(&t);
	SF_NEAR(t.rate, 0.02, 0, "default rate");
	SF_NEAR(t.level, 0.95, 0, "default level");
	SF_NEAR(t.remittance, 1, 0, "default remittance");
	SF_OK(t.repayment == SF_RISK_SALES, "default preset sales");
	sf_params_defaults(&sf_risk_policy_table, &p);
	SF_NEAR(p.pd_limit, 0.05, 0, "default pd_limit");
	SF_NEAR(p.el_rate, 0.01, 0, "default el_rate");
	SF_NEAR(p.ltv_cap, 0.7, 0, "default ltv_cap");
	SF_NEAR(p.terms.rate, 0.02, 0, "policy embeds the terms defaults");
	SF_OK(p.profit_optimum == 1, "profit optimum on by default");
}

SF_TEST(test_uniform_exact)
{
	sf_env		env;
	sf_qcurve	c;
	sf_risk_terms t;
	sf_risk_eval ev;
	sf_risk_row r;
	int			m = 100;
	double		th = 0.4,
				a;

	sf_env_init_malloc(&env);
	uniform_curve(&env, m, &c);
	default_terms(&t);
	t.rate = 0.0;
	a = t.level;
	SF_OK(sf_risk_eval_curve(&env, &t, &c, &ev) == SF_OK, "evaluator on a curve");
	sf_risk_point(&ev, th, &r);
	/* F = th; I = (1/m)^2 + (th^2 - 1/m^2)/2 */
	{
		double		I = 1.0 / (m * (double) m) + 0.5 * (th * th - 1.0 / (m * (double) m));
		double		P = 1.0 - a;
		double		IP = 1.0 / (m * (double) m) + 0.5 * (P * P - 1.0 / (m * (double) m));

		SF_NEAR(r.pd, th, 1e-12, "uniform PD");
		SF_NEAR(r.el, th * th - I, 1e-12, "uniform EL");
		SF_NEAR(r.cvar, (th * P - IP) / P, 1e-12, "uniform CVaR");
		SF_NEAR(r.var, th - P, 1e-12, "uniform VaR");
		SF_NEAR(r.elgd, (th * th - I) / th, 1e-12, "uniform ELGD");
		SF_NEAR(r.lgd_rate, (th * th - I) / (th * th), 1e-12, "uniform LGD rate");
		SF_NEAR(r.profit, th - (th * th - I) - th, 1e-12, "uniform profit");
		SF_OK(r.tail_resolved, "interior PD is resolved");
	}
	sf_risk_point(&ev, 0.005, &r);
	SF_OK(r.pd == 0.0 && !r.tail_resolved, "below the first knot: PD 0, tail not resolved");
	SF_OK(isnan(r.elgd) && r.el == 0.0, "ELGD undefined at PD 0");
	sf_risk_point(&ev, 2.0, &r);
	SF_NEAR(r.pd, 1.0, 0, "beyond the top knot: PD 1");
	SF_NEAR(r.el, 2.0 - sf_qcurve_integral(&c, 1.0), 1e-12, "EL = t - E[S] beyond the top");
	SF_OK(!r.tail_resolved, "upper atom not resolved");
	sf_risk_eval_free(&env, &ev);
	sf_qcurve_free(&env, &c);
}

SF_TEST(test_lognormal_closed_form)
{
	sf_env		env;
	sf_qcurve	c;
	sf_risk_terms t;
	sf_risk_eval ev;
	double		mu = 9.5,
				sig = 0.4,
				r = 0.02,
				a = 0.95;
	double		M = exp(mu + sig * sig / 2);
	double		worst_pd = 0,
				worst_el = 0,
				worst_cvar = 0;
	int			i;

	sf_env_init_malloc(&env);
	lognormal_curve(&env, 4000, mu, sig, &c);
	default_terms(&t);
	SF_OK(sf_risk_eval_curve(&env, &t, &c, &ev) == SF_OK, "lognormal evaluator");
	for (i = 1; i <= 60; i++)
	{
		double		L = exp(mu) * 0.05 * i / (1 + r);
		double		s = (1 + r) * L;
		double		z = (log(s) - mu) / sig;
		double		pd = Phi(z);
		double		el = s * pd - M * Phi(z - sig);
		double		P = pd < 1 - a ? pd : 1 - a;
		double		cvar = (s * P - M * Phi(Phi_inv(P) - sig)) / (1 - a);
		sf_risk_row row;

		sf_risk_point(&ev, L, &row);
		worst_pd = fmax(worst_pd, fabs(row.pd - pd));
		if (pd >= 0.01)
		{
			worst_el = fmax(worst_el, fabs(row.el - el) / el);
			worst_cvar = fmax(worst_cvar, fabs(row.cvar - cvar) / cvar);
		}
	}
	SF_OK(worst_pd <= 1.0 / 4000 + 1e-6, "lognormal sup |PD - PD_true| = %.3g", worst_pd);
	SF_OK(worst_el <= 0.01, "lognormal EL relative error %.3g", worst_el);
	SF_OK(worst_cvar <= 0.01, "lognormal CVaR relative error %.3g", worst_cvar);
	{
		sf_risk_policy p;
		sf_risk_size sz;
		double		alpha = 0.05;

		sf_params_defaults(&sf_risk_policy_table, &p);
		p.el_rate = 0;
		p.profit_optimum = 0;
		p.pd_limit = alpha;
		SF_OK(sf_risk_size_loan(&env, &ev, &p, &sz) == SF_OK, "size under a PD limit");
		SF_OK(sz.binding == SF_BIND_PD_LIMIT, "PD limit binds");
		SF_REL(sz.loan, exp(mu + sig * Phi_inv(alpha)) / (1 + r), 0.002,
			   "L_PD(alpha) closed form");
		SF_NEAR(sz.loan, expm1(log1p(sf_qcurve_quantile(&c, alpha))) / (1 + r), 1e-6 * sz.loan,
				"L_PD = Qhat(alpha)/(1+r) on the curve");
		SF_OK(sz.at.pd <= alpha + 1e-12, "PD at the loan within the limit");
	}
	sf_risk_eval_free(&env, &ev);
	sf_qcurve_free(&env, &c);
}

SF_TEST(test_sample_path)
{
	sf_env		env;
	sf_qcurve	c;
	sf_risk_terms t;
	sf_risk_eval ex,
				sm;
	size_t		K = 200000;
	double	   *s = malloc(sizeof(double) * K);
	double		loans[50];
	sf_risk_row r1[50],
				r2[50];
	double		worst = 0;
	int			i;

	sf_env_init_malloc(&env);
	lognormal_curve(&env, 500, 9.0, 0.5, &c);
	default_terms(&t);
	sf_qcurve_stratified(&c, s, K);
	/* shuffle: the sample path must not rely on order */
	for (i = 0; i < 1000; i++)
	{
		size_t		x = (size_t) i * 7919 % K,
					y = (size_t) i * 104729 % K;
		double		tmp = s[x];

		s[x] = s[y];
		s[y] = tmp;
	}
	SF_OK(sf_risk_eval_curve(&env, &t, &c, &ex) == SF_OK, "exact evaluator");
	SF_OK(sf_risk_eval_samples(&env, &t, s, K, &sm) == SF_OK, "sample evaluator");
	for (i = 0; i < 50; i++)
		loans[i] = exp(9.0) * 0.04 * i;
	SF_OK(sf_risk_curve(&env, &ex, loans, 50, r1) == SF_OK, "exact curve");
	SF_OK(sf_risk_curve(&env, &sm, loans, 50, r2) == SF_OK, "sample curve");
	for (i = 0; i < 50; i++)
		worst = fmax(worst, fabs(r1[i].pd - r2[i].pd));
	SF_OK(worst <= 2.0 / K, "stratified samples reproduce the exact PD (%.3g)", worst);
	worst = 0;
	for (i = 1; i < 50; i++)
		if (r1[i].pd >= 0.01)
			worst = fmax(worst, fabs(r1[i].el - r2[i].el) / r1[i].el);
	SF_OK(worst <= 1e-3, "sample EL matches exact EL (%.3g)", worst);
	worst = 0;
	for (i = 1; i < 50; i++)
		if (r1[i].pd >= 0.01)
			worst = fmax(worst, fabs(r1[i].cvar - r2[i].cvar) / r1[i].cvar);
	SF_OK(worst <= 1e-3, "sample CVaR matches exact CVaR (%.3g)", worst);
	for (i = 1; i < 50; i++)
		if (r1[i].pd < r1[i - 1].pd || r1[i].el < r1[i - 1].el || r1[i].cvar < r1[i - 1].cvar ||
			r1[i].var < r1[i - 1].var || r2[i].el < r2[i - 1].el)
			break;
	SF_OK(i == 50, "curves are monotone in the loan");
	{
		/* brute-force EL and CVaR of a small sample */
		double		x[5] = {5, 1, 4, 2, 3};
		sf_risk_eval e5;
		sf_risk_row r;

		t.rate = 0;
		t.level = 0.6;			/* kk = ceil(0.4 * 5) = 2 */
		SF_OK(sf_risk_eval_samples(&env, &t, x, 5, &e5) == SF_OK, "tiny sample");
		sf_risk_point(&e5, 3.5, &r);
		SF_NEAR(r.pd, 0.6, 1e-15, "tiny PD");
		SF_NEAR(r.el, (2.5 + 1.5 + 0.5) / 5, 1e-15, "tiny EL");
		SF_NEAR(r.cvar, (2.5 + 1.5) / 2, 1e-15, "tiny CVaR (worst 2 of 5)");
		SF_NEAR(r.var, 1.5, 1e-15, "tiny VaR");
		sf_risk_eval_free(&env, &e5);
	}
	sf_risk_eval_free(&env, &ex);
	sf_risk_eval_free(&env, &sm);
	sf_qcurve_free(&env, &c);
	free(s);
}

SF_TEST(test_presets)
{
	sf_env		env;
	sf_qcurve	c;
	sf_risk_terms t;
	sf_risk_eval ev,
				eb;
	sf_risk_row r;
	sf_risk_policy p;
	sf_risk_size sz;
	size_t		K = 100000,
				k,
				below = 0;
	double	   *s = malloc(sizeof(double) * K);
	double		el = 0,
				L = 500;

	sf_env_init_malloc(&env);
	uniform_curve(&env, 100, &c);		/* S ~ U(0, 1) in the interior */
	/* fixed recovery: C = 0.8 S + 0.7 * 0.5 */
	default_terms(&t);
	t.rate = 0.0;
	t.remittance = 0.8;
	t.repayment = SF_RISK_SALES_FIXED;
	t.collateral_value = 0.5;
	SF_OK(sf_risk_eval_curve(&env, &t, &c, &ev) == SF_OK, "fixed recovery evaluator");
	sf_risk_point(&ev, 0.35 + 0.8 * 0.5, &r);
	SF_NEAR(r.pd, 0.5, 1e-12, "fixed recovery: threshold (t - R0)/kappa");
	sf_params_defaults(&sf_risk_policy_table, &p);
	p.terms = t;
	p.el_rate = 0;
	p.profit_optimum = 0;
	p.pd_limit = 0.2;
	p.ltv_cap = 0;
	SF_OK(sf_risk_size_loan(&env, &ev, &p, &sz) == SF_OK, "size with fixed recovery");
	SF_NEAR(sz.loan, 0.8 * 0.2 + 0.35, 1e-9, "L_PD = kappa Q(alpha) + R0");
	p.ltv_cap = 0.7;
	SF_OK(sf_risk_size_loan(&env, &ev, &p, &sz) == SF_OK && sz.binding == SF_BIND_LTV_CAP,
		  "LTV cap binds (0.35 < 0.51)");
	SF_NEAR(sz.loan, 0.35, 1e-12, "LTV loan");
	p.credit_line = 0.1;
	SF_OK(sf_risk_size_loan(&env, &ev, &p, &sz) == SF_OK && sz.binding == SF_BIND_CREDIT_LINE,
		  "credit line binds");
	/* profit optimum: PD(L*) = (r + fee - rf)/(1 + r) */
	p.credit_line = 0;
	p.ltv_cap = 0;
	p.pd_limit = 1;
	p.profit_optimum = 1;
	ev.terms.rate = p.terms.rate = 0.1;
	ev.terms.funding_rate = p.terms.funding_rate = 0.02;
	SF_OK(sf_risk_size_loan(&env, &ev, &p, &sz) == SF_OK && sz.binding == SF_BIND_PROFIT_OPTIMUM,
		  "profit optimum binds");
	SF_NEAR(sz.at.pd, 0.08 / 1.1, 1e-9, "PD at the profit optimum is the critical fractile");
	{
		sf_risk_row lo,
					hi;

		sf_risk_point(&ev, sz.loan * 0.99, &lo);
		sf_risk_point(&ev, sz.loan * 1.01, &hi);
		SF_OK(lo.profit <= sz.at.profit && hi.profit <= sz.at.profit, "profit is maximal there");
	}
	p.profit_optimum = 0;
	SF_OK(sf_risk_size_loan(&env, &ev, &p, &sz) == SF_EINVAL, "no limit: error");
	sf_risk_eval_free(&env, &ev);

	/* collateral preset: sample path against brute force */
	default_terms(&t);
	t.repayment = SF_RISK_SALES_COLLATERAL;
	t.units = 100;
	t.unit_price = 10;
	t.unit_cost = 6;
	t.haircut = 0.3;
	t.rate = 0.0;
	t.samples = (int) K;
	sf_qcurve_free(&env, &c);
	lognormal_curve(&env, 200, log(800), 0.5, &c);
	SF_OK(sf_risk_eval_curve(&env, &t, &c, &eb) == SF_OK, "collateral evaluator");
	sf_qcurve_stratified(&c, s, K);
	for (k = 0; k < K; k++)
	{
		double		cap = s[k] + 0.7 * 6 * fmax(100 - s[k] / 10, 0);

		if (cap < L)
		{
			below++;
			el += L - cap;
		}
	}
	sf_risk_point(&eb, L, &r);
	SF_NEAR(r.pd, (double) below / K, 1e-12, "collateral PD = share of capacities below due");
	SF_REL(r.el, el / K, 1e-9, "collateral EL = mean shortfall");
	SF_OK(r.tail_resolved == (r.pd >= 1.0 / 200 && r.pd <= 1 - 1.0 / 200),
		  "collateral tail flag uses the curve's grid");
	sf_risk_eval_free(&env, &eb);
	sf_qcurve_free(&env, &c);
	free(s);
}

SF_TEST(test_bad_input)
{
	sf_env		env;
	sf_qcurve	c;
	sf_risk_terms t;
	sf_risk_eval ev;
	sf_risk_row rows[3];
	double		unsorted[3] = {1, 3, 2},
				neg[2] = {0, -1},
				nanl[2] = {0, NAN};
	double		x[2] = {1, NAN};

	sf_env_init_malloc(&env);
	uniform_curve(&env, 10, &c);
	default_terms(&t);
	SF_OK(sf_risk_eval_curve(&env, &t, &c, &ev) == SF_OK, "evaluator");
	SF_OK(sf_risk_curve(&env, &ev, unsorted, 3, rows) == SF_EDATA && strstr(env.msg, "sorted"),
		  "unsorted loans: %s", env.msg);
	SF_OK(sf_risk_curve(&env, &ev, neg, 2, rows) == SF_EDATA && strstr(env.msg, "negative"),
		  "negative loan: %s", env.msg);
	SF_OK(sf_risk_curve(&env, &ev, nanl, 2, rows) == SF_EDATA && strstr(env.msg, "NaN"),
		  "NaN loan: %s", env.msg);
	sf_risk_eval_free(&env, &ev);
	t.rate = -1;
	SF_OK(sf_risk_eval_curve(&env, &t, &c, &ev) == SF_EINVAL, "rate -1: %s", env.msg);
	default_terms(&t);
	t.repayment = SF_RISK_SALES_COLLATERAL;
	t.units = 10;
	t.unit_price = 10;
	t.unit_cost = 20;
	SF_OK(sf_risk_eval_curve(&env, &t, &c, &ev) == SF_EINVAL && strstr(env.msg, "decreases"),
		  "non-monotone capacity: %s", env.msg);
	default_terms(&t);
	SF_OK(sf_risk_eval_samples(&env, &t, x, 0, &ev) == SF_EDATA, "empty samples: %s", env.msg);
	SF_OK(sf_risk_eval_samples(&env, &t, x, 2, &ev) == SF_EDATA && strstr(env.msg, "NaN"),
		  "NaN sample: %s", env.msg);
	{
		double		neg[3] = {10.0, -5.0, 20.0};

		/* issue 13: a negative sale would be a shortfall at a zero loan */
		SF_OK(sf_risk_eval_samples(&env, &t, neg, 3, &ev) == SF_EINVAL && strstr(env.msg, "negative"),
			  "negative sample: %s", env.msg);
	}
	t.level = 1.0;
	SF_OK(sf_risk_eval_samples(&env, &t, x, 1, &ev) == SF_EINVAL, "level 1: %s", env.msg);
	sf_qcurve_free(&env, &c);
}

/*
 * The tail rule decides EL where PD is a few times 1/m: on exact lognormal
 * knots with m = 245 (the default grid for 60,000 rows), at PD 0.01 and
 * 0.02 the exponential tail's EL error is at most half the linear tail's,
 * which is below the flat tail's (docs/risk.md gives the figures).
 */
SF_TEST(test_tail_rules_el)
{
	sf_env		env;
	double		mu = 9.3,
				sig = 0.31,
				r = 0.02;
	double		M = exp(mu + sig * sig / 2);
	double		pds[] = {0.01, 0.02};
	int			i;

	sf_env_init_malloc(&env);
	for (i = 0; i < 2; i++)
	{
		double		s = exp(mu + sig * Phi_inv(pds[i]));
		double		z = (log(s) - mu) / sig;
		double		el = s * Phi(z) - M * Phi(z - sig);
		double		err[3];
		int			rule;

		for (rule = 0; rule < 3; rule++)
		{
			sf_qcurve	c;
			sf_risk_terms t;
			sf_risk_eval ev;
			sf_risk_row row;

			lognormal_curve_tail(&env, 245, mu, sig, (sf_tail_rule) rule, &c);
			default_terms(&t);
			t.rate = r;
			if (sf_risk_eval_curve(&env, &t, &c, &ev) != SF_OK)
				abort();
			sf_risk_point(&ev, s / (1 + r), &row);
			err[rule] = fabs(row.el / el - 1);
			sf_qcurve_free(&env, &c);
		}
		SF_OK(err[SF_TAIL_EXPONENTIAL] <= 0.5 * err[SF_TAIL_LINEAR] && err[SF_TAIL_LINEAR] < err[SF_TAIL_FLAT],
			  "PD %.2f, m = 245: EL relative error exponential %.3f <= half of linear %.3f < flat %.3f",
			  pds[i], err[SF_TAIL_EXPONENTIAL], err[SF_TAIL_LINEAR], err[SF_TAIL_FLAT]);
	}
}

/*
 * sf_risk_curve walks the sorted loans along the knots and reads the CVaR
 * integral at 1 - a kept in the evaluator; sf_risk_point searches and
 * integrates per loan.  Each grid row must hold, bit for bit, the running
 * maximum of the one-loan PD, EL, VaR and CVaR (the curve's monotone guard),
 * and the CVaR where PD > 1 - a must be the formula with
 * sf_qcurve_integral(curve, 1 - a) computed here.
 */
static int
same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(double)) == 0;
}

SF_TEST(test_curve_against_points)
{
	sf_env		env;
	int			tail,
				preset;

	sf_env_init_malloc(&env);
	for (tail = SF_TAIL_FLAT; tail <= SF_TAIL_EXPONENTIAL; tail++)
		for (preset = SF_RISK_SALES; preset <= SF_RISK_SALES_FIXED; preset++)
		{
			sf_qcurve	c;
			sf_risk_terms t;
			sf_risk_eval ev;
			sf_risk_row rows[400],
						p,
						best;
			double		loans[400];
			int			i,
						n = 400,
						bad = 0,
						bad_cvar = 0,
						above = 0;

			lognormal_curve_tail(&env, 155, 9.0, 0.6, (sf_tail_rule) tail, &c);
			default_terms(&t);
			t.level = 0.9;
			if (preset == SF_RISK_SALES_FIXED)
			{
				t.repayment = SF_RISK_SALES_FIXED;
				t.collateral_value = 2000.0;
				t.remittance = 0.8;
			}
			SF_OK(sf_risk_eval_curve(&env, &t, &c, &ev) == SF_OK, "evaluator");
			for (i = 0; i < n; i++)	/* 0 to 3 e^mu, with repeats */
				loans[i] = exp(9.0) * 3.0 * (double) (i - i % 3) / n;
			SF_OK(sf_risk_curve(&env, &ev, loans, n, rows) == SF_OK, "curve");
			for (i = 0; i < n; i++)
			{
				sf_risk_point(&ev, loans[i], &p);
				/* the guard keeps a row's own value unless it is below the previous (-0 stays -0) */
				if (i == 0 || !(p.pd < best.pd))
					best.pd = p.pd;
				if (i == 0 || !(p.el < best.el))
					best.el = p.el;
				if (i == 0 || !(p.var < best.var))
					best.var = p.var;
				if (i == 0 || !(p.cvar < best.cvar))
					best.cvar = p.cvar;
				if (!same_bits(rows[i].pd, best.pd) || !same_bits(rows[i].el, best.el) ||
					!same_bits(rows[i].var, best.var) || !same_bits(rows[i].cvar, best.cvar) ||
					!same_bits(rows[i].due, p.due))
					bad++;
				if (p.pd > 1.0 - t.level)
				{
					double		th = (p.due - ev.r0) / ev.kappa,
								P = 1.0 - t.level,
								want = ev.kappa * (th * P - sf_qcurve_integral(&c, P)) / (1.0 - t.level);

					above++;
					if (!same_bits(p.cvar, want < 0.0 ? 0.0 : want))
						bad_cvar++;
				}
			}
			SF_OK(bad == 0, "%s %s: %d grid rows are the running maxima of the one-loan rows, bit for bit (%d off)",
				  sf_tail_rule_name((sf_tail_rule) tail), sf_risk_preset_name(preset), n, bad);
			SF_OK(above > 0 && bad_cvar == 0,
				  "%s %s: CVaR at %d loans with PD > 1 - a uses the integral at 1 - a exactly (%d off)",
				  sf_tail_rule_name((sf_tail_rule) tail), sf_risk_preset_name(preset), above, bad_cvar);
			sf_risk_eval_free(&env, &ev);
			sf_qcurve_free(&env, &c);
		}
}

int
main(void)
{
	SF_RUN(test_defaults);
	SF_RUN(test_uniform_exact);
	SF_RUN(test_lognormal_closed_form);
	SF_RUN(test_tail_rules_el);
	SF_RUN(test_sample_path);
	SF_RUN(test_presets);
	SF_RUN(test_bad_input);
	SF_RUN(test_curve_against_points);
	return sf_test_done();
}
