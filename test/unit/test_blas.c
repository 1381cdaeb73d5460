/*
 * test_blas.c
 *	  The BLAS door against its naive oracle: sgemm/dgemm in all four
 *	  transpose combinations with strides, dgemv both ways, dot and axpy,
 *	  within float tolerances scaled to the problem size.
 */
#include <math.h>
#include <string.h>

#include "scfrisk/sf_blas.h"
#include "scfrisk/sf_rng.h"
#include "sf_test.h"

#define M 37
#define N 29
#define K 53

SF_TEST(test_gemm)
{
	static float a[K * M + 8],
				b[K * N + 8],
				c1[M * N],
				c2[M * N];
	static double da[K * M],
				db[K * N],
				d1[M * N],
				d2[M * N];
	sf_rng		r;
	int			ta,
				tb,
				i;

	sf_rng_init(&r, 1, 0);
	for (i = 0; i < K * M; i++)
		da[i] = a[i] = (float) sf_rng_normal(&r);
	for (i = 0; i < K * N; i++)
		db[i] = b[i] = (float) sf_rng_normal(&r);
	for (ta = 0; ta < 2; ta++)
		for (tb = 0; tb < 2; tb++)
		{
			double		err = 0,
						derr = 0;

			for (i = 0; i < M * N; i++)
			{
				c1[i] = c2[i] = 1.0f;
				d1[i] = d2[i] = 1.0;
			}
			sf_sgemm(ta, tb, M, N, K, 0.5f, a, ta ? M : K, b, tb ? K : N, 2.0f, c1, N);
			sf_sgemm_naive(ta, tb, M, N, K, 0.5f, a, ta ? M : K, b, tb ? K : N, 2.0f, c2, N);
			sf_dgemm(ta, tb, M, N, K, 0.5, da, ta ? M : K, db, tb ? K : N, 2.0, d1, N);
			sf_dgemm_naive(ta, tb, M, N, K, 0.5, da, ta ? M : K, db, tb ? K : N, 2.0, d2, N);
			for (i = 0; i < M * N; i++)
			{
				err = fmax(err, fabs(c1[i] - c2[i]));
				derr = fmax(derr, fabs(d1[i] - d2[i]));
			}
			/* sums of K products of N(0,1): float error ~ K * 2^-24 * |terms| */
			SF_OK(err < 1e-4, "sgemm trans %d%d vs naive (max err %.2e, %s)", ta, tb, err, sf_blas_backend());
			SF_OK(derr < 1e-12, "dgemm trans %d%d vs naive (max err %.2e)", ta, tb, derr);
		}
}

SF_TEST(test_level1_and_gemv)
{
	double		a[6] = {1, 2, 3, 4, 5, 6};	/* 2 x 3 */
	double		x3[3] = {1, -1, 2},
				x2[2] = {3, -2},
				y2[2] = {1, 1},
				y3[3] = {0, 0, 0};
	float		fx[3] = {1, 2, 3},
				fy[3] = {4, 5, 6};
	double		dx[3] = {1, 2, 3},
				dy[3] = {4, 5, 6};

	sf_dgemv(0, 2, 3, 1.0, a, 3, x3, 2.0, y2);
	SF_OK(y2[0] == 1 - 2 + 6 + 2 && y2[1] == 4 - 5 + 12 + 2, "dgemv no-trans (%g, %g)", y2[0], y2[1]);
	sf_dgemv(1, 2, 3, 1.0, a, 3, x2, 0.0, y3);
	SF_OK(y3[0] == 3 - 8 && y3[1] == 6 - 10 && y3[2] == 9 - 12, "dgemv trans");
	SF_OK(sf_sdot(3, fx, fy) == 32.0f && sf_ddot(3, dx, dy) == 32.0, "dot products");
	sf_saxpy(3, 2.0f, fx, fy);
	sf_daxpy(3, -1.0, dx, dy);
	SF_OK(fy[2] == 12.0f && dy[0] == 3.0, "axpy");
}

#define CK 7

/*
 * sf_cholesky / sf_cholesky_solve against a closed form: A = B B' + I for a
 * random B is positive definite, and A x = b must hold for the solution; a
 * matrix with a negative pivot is refused.
 */
SF_TEST(test_cholesky)
{
	double		bm[CK * CK],
				a[CK * CK],
				l[CK * CK],
				x[CK],
				b[CK],
				worst = 0.0;
	int			i,
				j,
				t;
	sf_rng		r;

	sf_rng_init(&r, 5, 0);
	for (i = 0; i < CK * CK; i++)
		bm[i] = sf_rng_normal(&r);
	for (i = 0; i < CK; i++)
		for (j = 0; j < CK; j++)
		{
			double		v = i == j ? 1.0 : 0.0;

			for (t = 0; t < CK; t++)
				v += bm[i * CK + t] * bm[j * CK + t];
			a[i * CK + j] = v;
		}
	for (i = 0; i < CK; i++)
		b[i] = sf_rng_normal(&r);
	memcpy(l, a, sizeof(a));
	memcpy(x, b, sizeof(b));
	SF_OK(sf_cholesky(l, CK) == 0, "positive definite matrix factors");
	sf_cholesky_solve(l, CK, x);
	for (i = 0; i < CK; i++)
	{
		double		v = 0.0;

		for (j = 0; j < CK; j++)
			v += a[i * CK + j] * x[j];
		if (fabs(v - b[i]) > worst)
			worst = fabs(v - b[i]);
	}
	SF_OK(worst < 1e-10, "A x = b after the solve (max residual %.3g)", worst);
	memcpy(l, a, sizeof(a));
	l[3 * CK + 3] = -1.0;
	SF_OK(sf_cholesky(l, CK) == -1, "a negative pivot is refused");
}

int
main(void)
{
	SF_RUN(test_gemm);
	SF_RUN(test_level1_and_gemv);
	SF_RUN(test_cholesky);
	return sf_test_done();
}
