/*
 * fuzz_risk.c
 *	  libFuzzer target for the loan-risk core (src/risk/risk.c, src/risk/risk_size.c).
 *
 * The risk functions decode nothing, but they take arbitrary curves (any
 * fitted quantiles), arbitrary sales samples, terms and loan grids from
 * users.  The input bytes become: a preset and terms, m and the quantiles
 * of a curve (identity or log1p), a few sales samples, and a loan grid.
 * Every call must either refuse with a status and a message, or return
 * measures that hold their invariants: PD in [0, 1], EL, VaR and CVaR
 * non-negative and non-decreasing along the sorted grid, no NaN where the
 * inputs are finite, and a recommended loan that is one of the limits.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scfrisk/sf_risk.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct reader
{
	const uint8_t *p;
	const uint8_t *end;
} reader;

static double
next_double(reader *r, double lo, double hi)
{
	uint16_t	v = 0;

	if (r->end - r->p >= 2)
	{
		v = (uint16_t) (r->p[0] | (r->p[1] << 8));
		r->p += 2;
	}
	return lo + (hi - lo) * (double) v / 65535.0;
}

static int
next_int(reader *r, int lo, int hi)
{
	int			v = 0;

	if (r->p < r->end)
		v = *r->p++;
	return lo + v % (hi - lo + 1);
}

static void
check_rows(const sf_risk_row *rows, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		const sf_risk_row *r = &rows[i];

		if (!(r->pd >= 0.0 && r->pd <= 1.0) || !(r->el >= 0.0) || !(r->var >= 0.0) ||
			!(r->cvar >= 0.0) || isnan(r->profit))
			abort();
		if (i > 0 && (r->pd < rows[i - 1].pd || r->el < rows[i - 1].el ||
					  r->var < rows[i - 1].var || r->cvar < rows[i - 1].cvar))
			abort();
	}
}

static void
exercise(sf_env *env, const sf_risk_eval *ev, const sf_risk_policy *pol, const double *loans,
		 size_t n)
{
	sf_risk_row rows[16];
	sf_risk_size sz;

	if (sf_risk_curve(env, ev, loans, n, rows) == SF_OK)
		check_rows(rows, n);
	if (sf_risk_size_loan(env, ev, pol, &sz) == SF_OK)
	{
		int			b,
					found = 0;

		if (!(sz.loan >= 0.0) || isinf(sz.loan) || !(sz.at.pd >= 0.0 && sz.at.pd <= 1.0))
			abort();
		for (b = 0; b < SF_BIND_COUNT; b++)
		{
			if (sz.limits[b] < sz.loan)
				abort();
			if (sz.limits[b] == sz.loan)
				found = 1;
		}
		if (!found)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reader		r = {data, data + size};
	sf_env		env;
	sf_risk_policy pol;
	sf_qcurve	c;
	sf_risk_eval ev;
	double		q[64];
	double		s[32];
	double		loans[16];
	int			m,
				ns,
				nl,
				j;
	sf_transform tr;

	sf_env_init_malloc(&env);
	sf_params_defaults(&sf_risk_policy_table, &pol);
	pol.terms.repayment = next_int(&r, 0, 2);
	pol.terms.rate = next_double(&r, -0.99, 2.0);
	pol.terms.fee = next_double(&r, 0, 0.5);
	pol.terms.funding_rate = next_double(&r, -0.5, 1.0);
	pol.terms.remittance = next_double(&r, 0.01, 1.0);
	pol.terms.collateral_value = next_double(&r, 0, 1e4);
	pol.terms.haircut = next_double(&r, 0, 1);
	pol.terms.units = next_double(&r, 0, 100);
	pol.terms.unit_price = next_double(&r, 0, 100);
	pol.terms.unit_cost = next_double(&r, 0, 100);
	pol.terms.level = next_double(&r, 0.001, 0.999);
	pol.terms.samples = 100 + next_int(&r, 0, 255) * 4;
	pol.pd_limit = next_double(&r, 0.001, 1.0);
	pol.el_rate = next_double(&r, 0, 0.5);
	pol.cvar_budget = next_double(&r, 0, 1e4);
	pol.ltv_cap = next_double(&r, 0, 2);
	pol.credit_line = next_double(&r, 0, 1e4);
	pol.profit_optimum = next_int(&r, 0, 1);

	tr = next_int(&r, 0, 1) ? SF_TRANSFORM_LOG1P : SF_TRANSFORM_IDENTITY;
	m = next_int(&r, 2, 64);
	for (j = 0; j < m - 1; j++)
		q[j] = tr == SF_TRANSFORM_LOG1P ? next_double(&r, -0.5, 12.0) : next_double(&r, -1e3, 1e4);
	ns = next_int(&r, 1, 32);
	for (j = 0; j < ns; j++)
		s[j] = next_double(&r, -1e3, 1e4);
	nl = next_int(&r, 1, 16);
	loans[0] = next_double(&r, 0, 100);
	for (j = 1; j < nl; j++)
		loans[j] = loans[j - 1] + next_double(&r, 0, 2000);
	if (next_int(&r, 0, 7) == 0)
		loans[nl - 1] = -1.0;	/* an invalid grid: must be refused */

	if (sf_qcurve_build(&env, q, m, tr, &c) == SF_OK)
	{
		if (sf_risk_eval_curve(&env, &pol.terms, &c, &ev) == SF_OK)
			exercise(&env, &ev, &pol, loans, (size_t) nl);
		else if (env.msg == NULL)
			abort();
		sf_risk_eval_free(&env, &ev);
		sf_qcurve_free(&env, &c);
	}
	if (sf_risk_eval_samples(&env, &pol.terms, s, (size_t) ns, &ev) == SF_OK)
		exercise(&env, &ev, &pol, loans, (size_t) nl);
	sf_risk_eval_free(&env, &ev);
	return 0;
}
