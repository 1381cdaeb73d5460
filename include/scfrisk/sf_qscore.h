/*
 * sf_qscore.h
 *	  Scoring rules for quantile forecasts: the pinball loss of one quantile,
 *	  the CRPS of an ensemble of draws, and the exact CRPS of a quantile curve
 *	  (methods/qrgmm_scf.md section 7.2).  Pure C, no allocation.
 */
#ifndef SCFRISK_SF_QSCORE_H
#define SCFRISK_SF_QSCORE_H

#include "scfrisk/sf_qcurve.h"

/* Pinball loss rho_tau(y - q) = tau r for r >= 0, (tau - 1) r otherwise. */
extern double sf_pinball(double y, double q, double tau);

/*
 * CRPS of an ensemble z[0..K) (K >= 1) at observation y, from the sorted
 * draws: (1/K) sum |z_k - y| - (1/K^2) sum_k (2k - K - 1) z_(k).  Sorts z in
 * place (the caller's copy).
 */
extern double sf_crps_samples(double *z, int K, double y);

/*
 * Exact CRPS of the curve c at y: 2 * integral_0^1 rho_u(y - Qhat_S(u)) du,
 * by 5-point Gauss-Legendre on each segment split where the curve crosses y.
 */
extern double sf_crps_curve(const sf_qcurve *c, double y);

#endif							/* SCFRISK_SF_QSCORE_H */
