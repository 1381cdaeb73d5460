/*
 * quantreg_int.h
 *	  Internals shared by quantreg.c (the interior point) and quantreg_pk.c
 *	  (Portnoy-Koenker preprocessing): the workspace layout and the solver
 *	  entry point with an explicit right-hand side.  Not a public header.
 */
#ifndef SCFRISK_QUANTREG_INT_H
#define SCFRISK_QUANTREG_INT_H

#include "scfrisk/quantreg.h"

struct sf_qr_work
{
	int			n;				/* capacity in rows */
	int			p;				/* capacity in columns */
	double	   *a,
			   *s,
			   *z,
			   *w;				/* primal and dual variables (n) */
	double	   *da,
			   *dz,
			   *dw;				/* search direction (n) */
	double	   *rd;				/* dual residual (n) */
	double	   *rho;			/* right-hand side of the reduced system (n) */
	double	   *D;				/* diagonal scaling (n) */
	double	   *t1;				/* scratch (n) */
	double	   *Xd;				/* sqrt(D) X (n, p) */
	double	   *M;				/* normal matrix and its Cholesky factor (p, p) */
	double	   *lam,
			   *dlam,
			   *rp,
			   *rhs,
			   *b;				/* (p) */
	/* Portnoy-Koenker preprocessing (sf_qr_pk_prepare allocates these) */
	double	   *pk_h;			/* (n) leverage-like row norms ||L^{-1} x_i|| */
	double	   *pk_X;			/* (n, p) rows of the reduced problem */
	double	   *pk_y;			/* (n) their responses */
	double	   *pk_r;			/* (n) residuals of the full data */
	double	   *pk_sorted;		/* (n) scratch for order statistics */
	int8_t	   *pk_state;		/* (n) -1 fixed below, 0 in the band, +1 fixed above */
	int			pk_ready;		/* rows pk_h was computed for (0: not prepared) */
};

/*
 * The interior point on  min -y'a  s.t.  X'a = b, 0 <= a <= 1.  b (p) NULL
 * means the quantile-regression right-hand side (1 - tau) X'1; the
 * preprocessing passes b reduced by the rows whose sign is fixed.
 */
extern sf_status sf_qr_solve_b(sf_env *env, sf_qr_work *w, const double *X, const double *y,
							   int n, int p, double tau, const double *b, const double *warm,
							   const sf_qr_options *opt, double *beta, sf_qr_info *info);

#endif							/* SCFRISK_QUANTREG_INT_H */
