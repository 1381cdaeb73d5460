/*
 * sf_risk.h
 *	  The risk of a loan as a function of its amount, and loan sizing, from a
 *	  seller's conditional sales distribution (methods/qrgmm_scf.md section 6).
 *
 * A loan L is due as t(L) = (1 + rate) L at the end of the period.  The
 * seller repays from a capacity C = g(S) that is a non-decreasing function of
 * period sales S (the repayment preset); default is C < t, the loss is
 * (t - C)^+.  Every measure (PD, EL, ELGD, LGD rate, VaR, CVaR, expected
 * profit) is a functional of the law of C and of t.  Two evaluators share one
 * interface:
 *
 * - exact (6.3a): on the piecewise-linear QRGMM curve of sf_qcurve.h, for
 *   the affine presets "sales" (C = kappa S) and "sales_plus_fixed_recovery"
 *   (C = kappa S + (1 - h) V); every loan costs O(log m);
 * - samples (6.3b): on sorted capacities c_(1) <= ... <= c_(K) with prefix
 *   sums, from a float8[] of sales samples or from K stratified draws of a
 *   curve; this is the path of "sales_plus_collateral", whose capacity
 *   C = kappa S + (1 - h) w max(q0 - S / p, 0) is piecewise linear.
 *
 * Loan sizing (6.4) finds the largest loan meeting each policy limit by
 * bisection on the monotone measures, and the profit optimum as the largest
 * loan whose PD stays at the critical fractile (rate + fee - funding_rate) /
 * (1 + rate) (Profit is concave, its derivative is (1 + r)(1 - PD) + fee -
 * (1 + r_f)); the recommendation is their minimum and the binding one is
 * reported.
 */
#ifndef SCFRISK_SF_RISK_H
#define SCFRISK_SF_RISK_H

#include "scfrisk/sf_core.h"
#include "scfrisk/sf_params.h"
#include "scfrisk/sf_qcurve.h"

/* Repayment presets (enum index of "repayment" in the terms). */
typedef enum sf_risk_preset
{
	SF_RISK_SALES = 0,			/* C = kappa S */
	SF_RISK_SALES_FIXED = 1,	/* C = kappa S + (1 - h) V */
	SF_RISK_SALES_COLLATERAL = 2	/* C = kappa S + (1 - h) w max(q0 - S/p, 0) */
} sf_risk_preset;

#define RISK_DEFAULT_RATE		0.02
#define RISK_DEFAULT_LEVEL		0.95
#define RISK_DEFAULT_HAIRCUT	0.3
#define RISK_DEFAULT_SAMPLES	100000
#define RISK_MIN_SAMPLES		100
#define RISK_MAX_SAMPLES		10000000
#define RISK_DEFAULT_PD_LIMIT	0.05
#define RISK_DEFAULT_EL_RATE	0.01
#define RISK_DEFAULT_LTV_CAP	0.7
#define RISK_MAX_GRID			1000000 /* loans per curve call */

/* The loan contract and how the seller repays (the "terms" jsonb). */
typedef struct sf_risk_terms
{
	double		rate;			/* r: period interest rate, > -1 */
	double		fee;			/* phi_fee: upfront fee as a share of L, [0, 1) */
	double		funding_rate;	/* r_f: lender's period funding cost, > -1 */
	double		remittance;		/* kappa: share of sales remitted to the lender, (0, 1] */
	double		collateral_value;	/* V: value of the in-transit collateral, >= 0 */
	double		haircut;		/* h: liquidation haircut on collateral, [0, 1] */
	double		units;			/* q0: units in transit (sales_plus_collateral) */
	double		unit_price;		/* p: selling price per unit */
	double		unit_cost;		/* w: collateral (cost) value per unit */
	double		level;			/* a: VaR / CVaR level, (0, 1) */
	int			repayment;		/* sf_risk_preset */
	int			samples;		/* K stratified draws for the sample path from a model */
} sf_risk_terms;

/* Loan policy (the "policy" jsonb): the terms plus the limits. */
typedef struct sf_risk_policy
{
	sf_risk_terms terms;		/* keys of the terms table, flattened */
	double		pd_limit;		/* alpha: largest PD, (0, 1] (1 = none) */
	double		el_rate;		/* beta: EL(L) <= beta L, 0 = none */
	double		cvar_budget;	/* B: CVaR_a(L) <= B (currency), 0 = none */
	double		ltv_cap;		/* L <= ltv_cap * collateral_value, 0 = none */
	double		credit_line;	/* L <= credit_line, 0 = none */
	int			profit_optimum; /* also cap at the profit-maximising loan */
} sf_risk_policy;

extern const sf_param_table sf_risk_terms_table;	/* "loan_risk_curve" terms */
extern const sf_param_table sf_risk_policy_table;	/* "loan_size" policy */

/* Names of the presets and of the binding constraints. */
extern const char *sf_risk_preset_name(int preset);

typedef enum sf_risk_binding
{
	SF_BIND_PD_LIMIT = 0,
	SF_BIND_EL_RATE,
	SF_BIND_CVAR_BUDGET,
	SF_BIND_LTV_CAP,
	SF_BIND_CREDIT_LINE,
	SF_BIND_PROFIT_OPTIMUM,
	SF_BIND_COUNT
} sf_risk_binding;

extern const char *sf_risk_binding_name(sf_risk_binding b);

/* The measures of one loan amount (NaN = undefined: ELGD and LGD rate at PD 0). */
typedef struct sf_risk_row
{
	double		loan;			/* L */
	double		due;			/* t = (1 + r) L */
	double		pd;				/* P(C < t) */
	double		el;				/* E[(t - C)^+] */
	double		elgd;			/* EL / PD (currency) */
	double		lgd_rate;		/* EL / (PD t) */
	double		var;			/* (t - Q_C(1 - a))^+ */
	double		cvar;			/* (1/(1-a)) integral_0^{1-a} (t - Q_C(v))^+ dv */
	double		profit;			/* t - EL + fee L - (1 + r_f) L */
	int			tail_resolved;	/* PD lies outside the model's unresolved tail atoms */
} sf_risk_row;

/*
 * An evaluator: either a curve (exact path) or sorted capacities (samples).
 * Built by sf_risk_eval_curve / sf_risk_eval_samples, freed by
 * sf_risk_eval_free.  Holds pointers to the curve, which must outlive it.
 */
typedef struct sf_risk_eval
{
	sf_risk_terms terms;		/* validated copy */
	double		kappa;			/* remittance */
	double		r0;				/* fixed recovery (1 - h) V, or 0 */
	const sf_qcurve *curve;		/* exact path, or NULL */
	double		q_var;			/* exact: Qhat_S(1 - a) */
	double		i_var;			/* exact: integral_0^{1-a} Qhat_S (CVaR where PD > 1 - a) */
	double		atom;			/* unresolved tail mass: 1/m or 1/K */
	double	   *c;				/* samples: K sorted capacities, or NULL */
	double	   *pc;				/* samples: (K+1) prefix sums, pc[0] = 0 */
	size_t		K;
	size_t		kk;				/* ceil((1 - a) K), >= 1 */
	double		c_max;			/* largest capacity (for the sizing bracket) */
} sf_risk_eval;

/* Check cross-field conditions of the terms (monotone capacity and so on). */
extern sf_status sf_risk_terms_validate(sf_env *env, const sf_risk_terms *t);

/* Capacity g(S) of the preset. */
extern double sf_risk_capacity(const sf_risk_terms *t, double s);

/*
 * Evaluator on a curve.  Presets sales and sales_plus_fixed_recovery are
 * exact; sales_plus_collateral draws terms->samples stratified points from
 * the curve and takes the sample path.  Allocates through env.
 */
extern sf_status sf_risk_eval_curve(sf_env *env, const sf_risk_terms *terms,
									const sf_qcurve *curve, sf_risk_eval *out);

/*
 * Evaluator on sales samples s[0..n) (any order; NaN and infinity are
 * SF_EDATA, n = 0 is SF_EDATA, a negative sample SF_EINVAL: sales cannot be
 * negative).  Copies and sorts.
 */
extern sf_status sf_risk_eval_samples(sf_env *env, const sf_risk_terms *terms,
									  const double *s, size_t n, sf_risk_eval *out);
extern void sf_risk_eval_free(sf_env *env, sf_risk_eval *ev);

/* The measures at one loan L >= 0 (no monotone guard: see sf_risk_curve). */
extern void sf_risk_point(const sf_risk_eval *ev, double L, sf_risk_row *row);

/*
 * The risk curve over loans[0..n): finite, >= 0, non-decreasing (SF_EDATA
 * otherwise, naming the element).  One pass; PD, EL, VaR and CVaR are
 * carried as running maxima so rounding can never make them decrease.
 * rows is (n).
 */
extern sf_status sf_risk_curve(sf_env *env, const sf_risk_eval *ev, const double *loans,
							   size_t n, sf_risk_row *rows);

/* A recommended loan and why. */
typedef struct sf_risk_size
{
	double		loan;			/* min over the limits */
	sf_risk_binding binding;	/* which limit gives it */
	double		limits[SF_BIND_COUNT];	/* each limit; INFINITY when inactive */
	sf_risk_row at;				/* the measures at loan */
} sf_risk_size;

/*
 * Size a loan under policy (its terms must be those ev was built with).
 * SF_EINVAL when no limit bounds the loan.
 */
extern sf_status sf_risk_size_loan(sf_env *env, const sf_risk_eval *ev,
								   const sf_risk_policy *policy, sf_risk_size *out);

/* ------------------------------------------------------------ decision */

/*
 * The lending decision (issue 16, docs/risk.md "The lending decision"): the
 * sales-side limits of sf_risk_size_loan, a limit on the credit model's PD
 * of the loan, and a limit on a combination of the two PDs, with a verdict.
 *
 * The credit model is reached through a callback: its PD of a loan amount
 * (the wrapper appends the loan-dependent features and scores the model);
 * NaN when the model cannot score.  The credit PD need not be monotone in
 * the loan, so its limit is the largest loan below the sales-side loan Ls
 * whose PD meets the limit, found by a downward scan of credit_grid evenly
 * spaced loans (Ls, Ls (G-1)/G, ..., 0) and bisection in the cell where the
 * scan first meets the limit: exact when the PD rises with the loan,
 * otherwise exact to the scan's resolution.  Ls itself meeting the limit
 * costs one evaluation.
 */
typedef enum sf_pd_combine
{
	SF_COMBINE_MAX = 0,			/* max(ps, pc): two views of one event */
	SF_COMBINE_INDEPENDENT,		/* 1 - (1 - ps)(1 - pc) */
	SF_COMBINE_UNION_BOUND		/* min(1, ps + pc): any dependence */
} sf_pd_combine;

#define RISK_DEFAULT_CREDIT_GRID	16
#define RISK_MAX_CREDIT_GRID		10000
#define RISK_RELIABLE_ATOMS			5	/* smallest reliable PD = 5 atoms (docs/qrgmm.md) */

typedef struct sf_risk_decision_policy
{
	sf_risk_policy base;		/* first: the loan_size keys keep their offsets */
	double		credit_pd_limit;	/* largest credit-model PD, (0, 1] (1 = none) */
	int			pd_combine;		/* sf_pd_combine */
	double		combined_pd_limit;	/* largest combined PD, (0, 1] (1 = none) */
	double		min_loan;		/* a loan at most this is declined, >= 0 */
	int			credit_grid;	/* G of the downward scan */
} sf_risk_decision_policy;

extern const sf_param_table sf_risk_decision_table;	/* "loan_decision" policy */

/* The decision's binding constraints: the loan_size ones, then these. */
#define SF_DBIND_CREDIT_PD		SF_BIND_COUNT
#define SF_DBIND_COMBINED_PD	(SF_BIND_COUNT + 1)
#define SF_DBIND_COUNT			(SF_BIND_COUNT + 2)

extern const char *sf_risk_decision_binding_name(int b);
extern const char *sf_pd_combine_name(int c);

typedef enum sf_verdict
{
	SF_APPROVE = 0,
	SF_REFER,
	SF_DECLINE
} sf_verdict;

extern const char *sf_verdict_name(sf_verdict v);

/*
 * Why: a set of reason flags, in the order of precedence of the status (the
 * first set flag names it; none = "ok").  Every flag but SF_WHY_BELOW_MIN
 * makes the verdict refer.
 */
#define SF_WHY_NO_MODEL				(1u << 0)	/* no sales model */
#define SF_WHY_MISSING_COVARIATES	(1u << 1)	/* NULL sales covariates */
#define SF_WHY_MISSING_COLLATERAL	(1u << 2)	/* ltv_cap without a collateral value */
#define SF_WHY_NO_CREDIT_MODEL		(1u << 3)	/* a credit limit without a credit model */
#define SF_WHY_MISSING_CREDIT		(1u << 4)	/* credit features (or a loan feature) missing */
#define SF_WHY_CREDIT_UNSCORED		(1u << 5)	/* the credit model gave NaN */
#define SF_WHY_UNRELIABLE_LIMIT		(1u << 6)	/* a PD limit below the smallest reliable PD */
#define SF_WHY_UNRESOLVED_TAIL		(1u << 7)	/* tail_resolved false at the chosen loan and
													 * the tail's worst case breaks a limit */
#define SF_WHY_BELOW_MIN			(1u << 8)	/* the loan is at most min_loan: decline */
#define SF_WHY_COUNT				9

extern const char *sf_risk_reason_name(int bit);

typedef double (*sf_credit_pd_fn) (void *ctx, double loan);

/* What the wrapper knows before the decision. */
typedef struct sf_risk_decision_in
{
	const sf_risk_eval *ev;		/* sales evaluator; NULL when it could not be built */
	sf_credit_pd_fn credit_pd;	/* NULL: no usable credit model */
	void	   *credit_ctx;
	unsigned	why;			/* SF_WHY_* flags the wrapper found (missing inputs) */
} sf_risk_decision_in;

typedef struct sf_risk_decision
{
	sf_verdict	verdict;
	unsigned	why;			/* SF_WHY_* */
	double		loan;			/* NaN when nothing could be computed */
	int			binding;		/* SF_BIND_* or SF_DBIND_*; -1 when none */
	double		limits[SF_DBIND_COUNT];	/* INFINITY when inactive */
	sf_risk_row at;				/* the sales measures at loan */
	double		credit_pd;		/* NaN without a credit model */
	double		combined_pd;	/* the pd_combine of both; the sales PD without credit */
	double		reliable_pd;	/* the sales model's smallest reliable PD, 5 atoms */
} sf_risk_decision;

/* Combine two PDs (pc NaN: ps). */
extern double sf_pd_combine_apply(int rule, double ps, double pc);

/*
 * Decide.  SF_EINVAL when the policy bounds no loan on the sales side
 * (credit limits only lower the sales-side loan).
 */
extern sf_status sf_risk_decide(sf_env *env, const sf_risk_decision_in *in,
								const sf_risk_decision_policy *policy,
								sf_risk_decision *out);

/* The sales-side limits of a policy (limits[SF_BIND_COUNT], INFINITY = inactive). */
extern sf_status sf_risk_limits(sf_env *env, const sf_risk_eval *ev, const sf_risk_policy *policy,
								double *limits);

#endif							/* SCFRISK_SF_RISK_H */
