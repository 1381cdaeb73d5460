/*
 * risk_pg.h
 *	  What the SQL functions of loan risk (risk_sql.c) share with those of
 *	  loan decisions (decision_sql.c).
 */
#ifndef SCFRISK_RISK_PG_H
#define SCFRISK_RISK_PG_H

#include "postgres.h"

/*
 * The "why" object of loan_size and loan_decision: {"pd_limit": ..., ...},
 * every finite limit of limits[0..n) (SF_BIND_* then SF_DBIND_*) by its
 * binding's name, inactive (infinite) ones left out, as jsonb.
 */
extern Datum RiskLimitsJson(const double *limits, int n);

#endif							/* SCFRISK_RISK_PG_H */
