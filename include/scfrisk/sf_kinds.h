/*
 * sf_kinds.h
 *	  The one table of model kinds: every use of a kind (the container's names
 *	  and versions, scfrisk.predict, the QRGMM curve dispatch, the registry's
 *	  training aggregates, partial dependence, model_kinds()) reads it.
 *
 * Adding a kind touches this table (src/core/kinds.c) and the kind's own
 * folder; docs/development.md "Adding a model kind" walks through it, and
 * test/unit/test_kinds.c fails when a kind of sf_model_kind has no entry, an
 * entry has neither a row scorer nor a curve, or its docs page is missing.
 */
#ifndef SCFRISK_SF_KINDS_H
#define SCFRISK_SF_KINDS_H

#include <stdbool.h>

#include "scfrisk/sf_container.h"
#include "scfrisk/sf_qcurve.h"

struct sf_background;

typedef struct sf_kind
{
	uint16_t	tag;			/* sf_model_kind, the header's kind field */
	const char *name;			/* "gbt", "qrgmm_linear": model_info, messages */
	uint16_t	current_version;	/* newest format_version this build decodes */
	/* SQL training aggregate (features float8[], label float8, params jsonb) the
	 * registry retrains with, or NULL when the kind has none of that shape */
	const char *aggregate;
	const char *doc;			/* docs page of the kind, relative to the repo */
	bool		accepts_missing;	/* row scorer takes NaN as a missing value */
	/* a float32 network reads the inputs: scorers refuse finite values past
	 * the float32 range (22000), as training does (its row store is float32) */
	bool		float32_inputs;

	/* Decode the whole model (container and body, invariants checked) into
	 * memory allocated from env; *model is the kind's model struct. */
	sf_status	(*decode) (sf_env *env, const uint8_t *buf, size_t len, void **model);
	/* Input width of a decoded model (covariates for QRGMM kinds). */
	uint32_t	(*n_features) (const void *model);
	/* Score one row x[0..n_features) (NaN = missing where accepted); NULL when
	 * the kind has no row score (QRGMM kinds give curves instead). */
	double		(*predict) (const void *model, const double *x);
	/* Quantile curve at covariates x into *out; NULL for classifiers. */
	sf_status	(*curve) (sf_env *env, const void *model, const double *x, sf_qcurve *out);
	/* JSON object of the fields the decoded body determines (objective,
	 * shapes, coefficients, ...), named as in the info section: model_info
	 * refuses a model whose info or params section says otherwise, so what
	 * model_info reports is what the scorer reads. */
	void		(*describe) (const void *model, sf_buf *b);
	/*
	 * Contributions of x's features to its margin into phi (n_features + 1,
	 * bias last) and their standard errors into se (NULL allowed; 0 for
	 * exact methods), against the background sample bg where the method
	 * needs one (sf_explain.h); NULL when the kind has no method.
	 */
	sf_status	(*explain) (sf_env *env, const void *model, const struct sf_background *bg,
							const double *x, double *phi, double *se);
	bool		explain_needs_background;	/* explain reads the background section */
	/*
	 * The params table of the kind's training aggregate and the size of the
	 * struct it fills: the registry and cross-validation check a training's
	 * params with it before any row is read (NULL for a kind without one).
	 */
	const struct sf_param_table *params;
	size_t		params_size;
	/*
	 * Fit a new model on n rows x (n, p) with labels y and the params struct
	 * of the kind's table, and free one: cross-fitting (the folds of
	 * "calibrate") trains through them, sf_kind_fold_fit.  NULL for a kind
	 * whose trainer takes other rows (float32, categorical fields).
	 */
	sf_status	(*fit) (sf_env *env, const void *params, const double *x, const double *y,
						size_t n, uint32_t p, void **model);
	void		(*free_model) (sf_env *env, void *model);
	/*
	 * Whole model bytes of a fitted model with the params struct it was fitted
	 * with and the feature names (NULL allowed) into b: the final function of
	 * a baseline's training aggregate writes its model with it (SfTrainKind).
	 * NULL for a kind whose trainer writes more than its model and params.
	 */
	sf_status	(*encode) (sf_env *env, const void *model, const void *params,
						   const char *const *names, sf_buf *b);
} sf_kind;

/* Entry of a kind tag, or NULL when this build knows no such kind. */
extern const sf_kind *sf_kind_find(uint16_t tag);

/* Entry of a kind name, or NULL. */
extern const sf_kind *sf_kind_find_name(const char *name);

/* Number of entries and the i-th (0 <= i < sf_kind_count()), in tag order. */
extern size_t sf_kind_count(void);
extern const sf_kind *sf_kind_at(size_t i);

/*
 * One fold's model of cross-fitting for a kind with a fit: the context of
 * sf_kind_fold_fit, which has the shape of sf_calib_fold_fn (sf_governance.h):
 * the kind's fit on the fold's rows with params (p features), its row scorer
 * on the held-out rows, its free.
 */
typedef struct sf_kind_fold
{
	const sf_kind *kind;
	const void *params;
	uint32_t	p;
} sf_kind_fold;

extern sf_status sf_kind_fold_fit(void *ctx, sf_env *env, const double *x, const double *y,
								  size_t n, const double *xs, size_t ns, double *prob);

#endif							/* SCFRISK_SF_KINDS_H */
