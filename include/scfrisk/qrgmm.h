/*
 * qrgmm.h
 *	  QRGMM on linear quantile regressions: the model (grid, coefficient
 *	  matrix, scaling, basis, transform, diagnostics), its fit over a grid of
 *	  levels, its bytes, and the conditional quantile curve of one covariate
 *	  vector (methods/qrgmm_scf.md sections 2, 3 and 5).
 *
 * Training: y = T(S) (log1p by default), a design of basis functions of the
 * covariates (intercept plus all monomials up to 'degree', in
 * scikit-learn's PolynomialFeatures order), standardised once; one exact
 * quantile regression per level tau_j = j/m, j = 1..m-1 (quantreg.h), each
 * warm-started from the level before; coefficients mapped back to the raw
 * basis.  Scoring: q_j(x) = basis(x)' beta_j, then sf_qcurve_build
 * (rearrangement and flat tails).
 */
#ifndef SCFRISK_QRGMM_H
#define SCFRISK_QRGMM_H

#include "scfrisk/sf_core.h"
#include "scfrisk/sf_container.h"
#include "scfrisk/sf_params.h"
#include "scfrisk/sf_qcurve.h"

#define QRGMM_FORMAT_VERSION	1
#define QRGMM_MIN_M				2
#define QRGMM_MAX_M				10000
#define QRGMM_AUTO_M_MIN		100	/* default rule: min(1000, max(100, ceil(sqrt n))) */
#define QRGMM_AUTO_M_MAX		1000
#define QRGMM_MIN_DEGREE		1
#define QRGMM_MAX_DEGREE		3
#define QRGMM_DEFAULT_DEGREE	1
#define QRGMM_MAX_P				512	/* design columns including the intercept */
#define QRGMM_MAX_FEATURES		4096
#define QRGMM_PFN_MIN_ROWS		1000	/* solver auto: preprocessing from this many rows */

/* Body section tags (>= SF_TAG_BODY).  Stored on disk: never renumber. */
#define QRGMM_TAG_SHAPE			16	/* m, p, degree, transform, y scaling */
#define QRGMM_TAG_GRID			17	/* (m-1) f64 levels j/m */
#define QRGMM_TAG_COEF			18	/* (m-1, p) f64 coefficients, row-major */
#define QRGMM_TAG_SCALING		19	/* (p) f64 centers, (p) f64 scales */
#define QRGMM_TAG_DIAG			20	/* (m-1) x {u32 iterations, f64 gap} */
#define QRGMM_TAG_TAIL			21	/* u8 tail rule; only when not flat */
#define QRGMM_TAG_GPD			22	/* u32 k, u32 k2, f64 xi, f64 beta, u32 exceedances; only for gpd */

/* User hyperparameters of qrgmm_train (table sf_qrgmm_param_table). */
typedef struct sf_qrgmm_params
{
	int			m;				/* grid parameter; 0 = default rule */
	int			degree;			/* polynomial basis degree, 1..3 */
	int			transform;		/* index into {"log1p", "identity"} */
	int			solver;			/* index into {"auto", "fn", "pfn"} */
	double		tol;			/* relative duality-gap tolerance of the solver */
	int			max_iter;		/* interior-point iterations per level */
	int64_t		seed;			/* stored in the model (no randomness in the fit today) */
	int			tail;			/* index into sf_qrgmm_tail_names: an sf_tail_rule,
								 * or SF_QRGMM_TAIL_GPD_POOLED (SF_TAIL_GPD untested) */
	sf_str_list feature_names;	/* optional names, one per covariate */
	int			verbose;		/* report the levels fitted (env->progress); not stored */
} sf_qrgmm_params;

/* The tail param "gpd_pooled": the gpd rule without the test of pooling. */
#define SF_QRGMM_TAIL_GPD_POOLED 4

extern const sf_param_table sf_qrgmm_param_table;

/* The tail rules qrgmm_train takes: sf_tail_rule_names and "gpd". */
extern const char *const sf_qrgmm_tail_names[];

/* The transform a params struct selects. */
extern sf_transform sf_qrgmm_params_transform(const sf_qrgmm_params *params);

/* A trained (or decoded) model.  All arrays are allocated through one env. */
typedef struct sf_qrgmm_model
{
	uint32_t	d;				/* covariates per row (n_features) */
	int			degree;			/* basis degree */
	int			p;				/* design columns including the intercept */
	int			m;				/* grid parameter: levels j/m, j = 1..m-1 */
	sf_transform transform;		/* y = T(S) */
	sf_tail_rule tail;			/* tails of the curves (sf_qcurve.h) */
	sf_qcurve_gpd gpd;			/* the fitted lower tail when tail is SF_TAIL_GPD */
	int			gpd_pool_rejected;	/* fit only: the gpd rule fell back to exponential */
	double		gpd_pool_f;		/* fit only: the pooling test's F statistic */
	double		y_center;		/* training response shift (y scale) */
	double		y_scale;		/* training response scale (y scale, > 0) */
	double	   *coef;			/* (m-1, p): row j-1 is beta at tau = j/m, raw basis */
	double	   *center;			/* (p) design column means used in training */
	double	   *scale;			/* (p) design column standard deviations */
	uint32_t   *iterations;		/* (m-1) interior-point iterations per level */
	double	   *gaps;			/* (m-1) final relative duality gap per level */
	uint64_t	n_rows;			/* rows trained on */
	int64_t		seed;			/* params seed */
	double		crossing_rate;	/* share of adjacent level pairs crossing on training rows */
	int			preprocessed;	/* 1 when Portnoy-Koenker preprocessing was used */
	char	   *params_json;	/* canonical params JSON (NUL-terminated) */
	char	   *info_json;		/* diagnostics JSON for model_info (NUL-terminated) */
} sf_qrgmm_model;

/* Design columns for d covariates and a degree (intercept included), or -1 past QRGMM_MAX_P. */
extern int	sf_qrgmm_basis_size(uint32_t d, int degree);

/* out (p) = basis of covariates x (d): 1, x_1..x_d, then higher monomials. */
extern void sf_qrgmm_basis(uint32_t d, int degree, const double *x, double *out);

/* Name of a design column ("1", "x2", "x1*x2^2") into buf. */
extern void sf_qrgmm_basis_name(uint32_t d, int degree, int col, char *buf, size_t len);

/*
 * Fit a model.  X is (n, d) row-major raw covariates, S (n) the responses on
 * the sales scale.  Errors (env->msg says which): SF_EDATA for non-finite
 * data, log1p with S <= -1, p > n, constant or collinear columns;
 * SF_EINVAL for an m too large for n (naming the largest usable m);
 * SF_ECANCEL on interrupt.  *out is allocated through env.
 */
extern sf_status sf_qrgmm_fit(sf_env *env, const sf_qrgmm_params *params,
							  const double *X, const double *S, size_t n, uint32_t d,
							  sf_qrgmm_model **out);
extern void sf_qrgmm_free(sf_env *env, sf_qrgmm_model *model);

/* The m the fit would use for n rows and p design columns (params->m or the rule). */
extern int	sf_qrgmm_choose_m(const sf_qrgmm_params *params, size_t n, int p);

/* q (m-1) = fitted quantiles x'beta_j on the y scale, before rearrangement. */
extern void sf_qrgmm_quantiles(const sf_qrgmm_model *model, const double *x, double *q);

/* The rearranged curve for covariates x (d); out allocated through env. */
extern sf_status sf_qrgmm_curve(sf_env *env, const sf_qrgmm_model *model, const double *x,
								sf_qcurve *out);

/* Append the model's bytes (container included) to b. */
extern sf_status sf_qrgmm_encode(sf_env *env, const sf_qrgmm_model *model, sf_buf *b);

/*
 * Decode model bytes; every invariant is checked (grid, finite coefficients,
 * positive scales, basis width).  SF_ECORRUPT / SF_EKIND / SF_EVERSION with
 * env->msg on failure.  *out is allocated through env and owns its arrays.
 */
extern sf_status sf_qrgmm_decode(sf_env *env, const uint8_t *buf, size_t len,
								 sf_qrgmm_model **out);

/* The info fields the body holds (grid, basis, transform, tail, crossing rate). */
extern void sf_qrgmm_body_json(const sf_qrgmm_model *model, sf_buf *b);

#endif							/* SCFRISK_QRGMM_H */
