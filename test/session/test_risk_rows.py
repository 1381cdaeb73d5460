#!/usr/bin/python3
"""The rows of the risk curves are the same on the fast path (issue 19, item 4).

loan_risk_curve forms its rows by hand (src/risk/risk_sql.c, CurveRows),
parses its terms once per distinct jsonb, and the demo's
demo_sales_covariates inlines into the views' queries (not STRICT any more:
a CASE gives NULL for a NULL argument).  Each shortcut is checked here
against a path that does not take it, on the demo data set, row for row:

1. covariates: the inlined function against the previous definition (a
   STRICT SQL function, never inlined), kept in this test as pg_temp.old_cov,
   for every seller and month; NULL in any argument gives NULL; the plan of
   the curve query no longer calls the function.
2. the whole curve query of demo_refresh_risk (lateral loan_risk_curve over
   every seller): the md5 of its ordered output (every column, shortest exact
   float text) equals the md5 of the same query through pg_temp.old_cov with
   the terms spelled two ways in turn, so that every call parses them.
3. row forming against tuplestore_putvalues: loan_size still returns its row
   through PostgreSQL's own tuple forming; its measures at the sized loan are
   sf_risk_point at that loan, as is a one-loan curve there.  Every column is
   compared exactly, at policies whose loan has PD 0 (ELGD and LGD rate
   NULL: the null bitmap path) and PD > 0 (the direct path).
4. the grid against one call per loan: each grid row holds the running
   maximum of the one-loan values of PD, EL, VaR and CVaR (the monotone guard
   of sf_risk_curve); rows where the guard changed nothing equal the one-loan
   row in every column.

5. money columns: scfrisk.round_cents(x) against round(x::numeric, 2) (as
   text, so the scale counts too) on a million random amounts of both signs
   over 20 orders of magnitude, amounts at half a cent, NaN and infinities;
   and the views seller_risk and seller_risk_curve, filled from
   loan_decision and the refresh's curve query, against their previous
   definitions (round(x::numeric, 2)), md5 of the ordered rows.

Nothing is timed.  Run:

    scripts/cluster.sh bash -c 'createdb t && PGDATABASE=t /usr/bin/python3 test/session/test_risk_rows.py'
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

SELLERS, LEVELS = 400, 30
TERMS = '{"rate": 0.04, "fee": 0.005, "funding_rate": 0.005}'
# the same terms with a default spelled out: another jsonb value, same struct
TERMS_ALT = '{"rate": 0.04, "fee": 0.005, "funding_rate": 0.005, "remittance": 1}'

t = Tap()
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
cur.execute("SET client_min_messages = warning")
cur.execute("SET extra_float_digits = 3")
cur.execute("SELECT scfrisk.generate_demo_data(%s, 5)", (SELLERS,))
cur.execute("SELECT scfrisk.demo_train_sales_model()")
sales = cur.fetchone()[0]
cur.execute("CREATE TEMP TABLE m AS SELECT %s::bytea AS model", (sales,))

# The previous definition of demo_sales_covariates (0.1.0 .. this change).
cur.execute("""CREATE FUNCTION pg_temp.old_cov(h float8, age_years float8, rating float8,
                                             category int, marketplace int, month int)
RETURNS float8[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ARRAY[h,
             (age_years > 2)::int::float8,
             (rating - 4.25) * (age_years > 2)::int,
             sin(2 * pi() * month / 12),
             cos(2 * pi() * month / 12),
             (category = 1)::int, (category = 2)::int, (category = 3)::int, (category = 4)::int,
             (category = 5)::int, (category = 6)::int, (category = 7)::int, (category = 8)::int,
             (category = 9)::int,
             (marketplace = 1)::int, (marketplace = 2)::int, (marketplace = 3)::int,
             (marketplace = 4)::int]::float8[]""")

# ------------------------------------------------------------ 1. covariates
cur.execute("""SELECT count(*), count(*) FILTER (WHERE a::text IS DISTINCT FROM b::text OR a IS DISTINCT FROM b)
FROM (SELECT scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating, s.category, s.marketplace, k) a,
             pg_temp.old_cov(s.log_past_sales, s.age_years, s.rating, s.category, s.marketplace, k) b
      FROM scfrisk_demo.sellers s, generate_series(1, 12) k) z""")
n, bad = cur.fetchone()
t.ok(n == SELLERS * 12 and bad == 0, "covariates: %d seller-months equal the previous definition" % n,
     "%d differ" % bad)
args = ["10::float8", "3::float8", "4.5::float8", "1", "2", "3"]
nulls = []
for i in range(6):
    a = list(args)
    a[i] = "NULL" + a[i][a[i].find("::"):] if "::" in a[i] else "NULL::int"
    cur.execute("SELECT scfrisk.demo_sales_covariates(%s) IS NULL" % ", ".join(a))
    nulls.append(cur.fetchone()[0])
t.ok(all(nulls), "covariates: NULL in any of the 6 arguments gives NULL (as STRICT did)", str(nulls))

CURVE = """SELECT s.seller_id, c.*
FROM scfrisk_demo.sellers s, m,
     LATERAL scfrisk.loan_risk_curve(m.model, {cov}(s.log_past_sales, s.age_years, s.rating,
                                                   s.category, s.marketplace, 1),
                                     scfrisk.loan_grid(s.past_period_sales, {levels}), {terms}) c"""
cur.execute("EXPLAIN VERBOSE " + CURVE.format(cov="scfrisk.demo_sales_covariates", levels=LEVELS,
                                               terms="'%s'" % TERMS))
plan = "\n".join(r[0] for r in cur.fetchall())
t.ok("demo_sales_covariates" not in plan, "covariates: inlined into the curve query's plan")


# ------------------------------------------------------------ 2. the whole query
def md5_of(sql):
    cur.execute("SELECT md5(string_agg(q::text, ',' ORDER BY q.seller_id, q.loan)), count(*) FROM (%s) q" % sql)
    return cur.fetchone()


fast = md5_of(CURVE.format(cov="scfrisk.demo_sales_covariates", levels=LEVELS, terms="'%s'" % TERMS))
slow = md5_of(CURVE.format(cov="pg_temp.old_cov", levels=LEVELS,
                           terms="(CASE WHEN s.seller_id %% 2 = 0 THEN '%s' ELSE '%s' END)::jsonb"
                           % (TERMS, TERMS_ALT)))
t.ok(fast[1] == SELLERS * LEVELS, "curve query: %d rows" % fast[1])
t.ok(fast == slow, "curve query: md5 of the ordered rows equal to the reference path",
     "fast %s, reference %s" % (fast, slow))

# ------------------------------------------------------------ 3. rows against loan_size's
COLS = ["loan", "due", "pd", "el", "elgd", "lgd_rate", "var", "cvar", "expected_profit", "tail_resolved"]
for name, limit in (("PD 0", '"credit_line": 0.01'), ("PD > 0", '"pd_limit": 0.2')):
    policy = TERMS[:-1] + ", " + limit + "}"
    cur.execute("""WITH z AS (
    SELECT s.seller_id, z.*, scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating,
                                                            s.category, s.marketplace, 1) AS x
    FROM scfrisk_demo.sellers s, m, LATERAL scfrisk.loan_size(m.model,
        scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating, s.category, s.marketplace, 1),
        %s) z)
SELECT count(*), count(*) FILTER (WHERE z.pd = 0), count(*) FILTER (WHERE z.elgd IS NULL),
       count(*) FILTER (WHERE {diff})
FROM z, m, LATERAL scfrisk.loan_risk_curve(m.model, z.x, ARRAY[z.loan], %s) c""".format(
        diff=" OR ".join("c.%s IS DISTINCT FROM z.%s" % (c, c) for c in COLS)), (policy, TERMS))
    n, pd0, elgd_null, bad = cur.fetchone()
    t.ok(n == SELLERS and bad == 0,
         "rows vs loan_size (%s): %d sellers, every column equal (%d at PD 0, %d NULL ELGD)"
         % (name, n, pd0, elgd_null), "%d differ" % bad)
    t.ok(pd0 == n if name == "PD 0" else pd0 < n, "rows vs loan_size (%s): the path is exercised" % name,
         "%d of %d at PD 0" % (pd0, n))

# ------------------------------------------------------------ 4. grid against one call per loan
cur.execute("""WITH g AS (
    SELECT s.seller_id, c.*, scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating,
                                                            s.category, s.marketplace, 1) AS x
    FROM scfrisk_demo.sellers s, m,
         LATERAL scfrisk.loan_risk_curve(m.model, scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years,
             s.rating, s.category, s.marketplace, 1), scfrisk.loan_grid(s.past_period_sales, %s), %s) c),
p AS (
    SELECT g.seller_id, g.loan, g.due AS g_due, g.pd AS g_pd, g.el AS g_el, g.elgd AS g_elgd,
           g.lgd_rate AS g_lgd, g.var AS g_var, g.cvar AS g_cvar, g.expected_profit AS g_profit,
           g.tail_resolved AS g_tail, c.*,
           max(c.pd) OVER w AS m_pd, max(c.el) OVER w AS m_el, max(c.var) OVER w AS m_var,
           max(c.cvar) OVER w AS m_cvar
    FROM g, m, LATERAL scfrisk.loan_risk_curve(m.model, g.x, ARRAY[g.loan], %s) c
    WINDOW w AS (PARTITION BY g.seller_id ORDER BY g.loan ROWS UNBOUNDED PRECEDING))
SELECT count(*),
       count(*) FILTER (WHERE g_due IS DISTINCT FROM due OR g_pd IS DISTINCT FROM m_pd
                        OR g_el IS DISTINCT FROM m_el OR g_var IS DISTINCT FROM m_var
                        OR g_cvar IS DISTINCT FROM m_cvar),
       count(*) FILTER (WHERE (pd, el, var, cvar) = (m_pd, m_el, m_var, m_cvar)),
       count(*) FILTER (WHERE (pd, el, var, cvar) = (m_pd, m_el, m_var, m_cvar)
                        AND (g_elgd IS DISTINCT FROM elgd OR g_lgd IS DISTINCT FROM lgd_rate
                             OR g_profit IS DISTINCT FROM expected_profit OR g_tail IS DISTINCT FROM tail_resolved)),
       count(*) FILTER (WHERE (g_elgd IS NULL) IS DISTINCT FROM (g_pd = 0))
FROM p""", (LEVELS, TERMS, TERMS))
n, bad_guard, unguarded, bad_rows, bad_nulls = cur.fetchone()
t.ok(n == SELLERS * LEVELS and bad_guard == 0,
     "grid vs one call per loan: %d rows hold the running maximum of the one-loan PD, EL, VaR, CVaR" % n,
     "%d differ" % bad_guard)
t.ok(unguarded > 0 and bad_rows == 0,
     "grid vs one call per loan: the %d rows the guard left alone equal the one-loan row" % unguarded,
     "%d differ" % bad_rows)
t.ok(bad_nulls == 0, "grid: ELGD is NULL exactly where PD is 0", "%d rows not" % bad_nulls)

# ------------------------------------------------------------ 5. money columns
cur.execute("""WITH x AS (SELECT (random() - 0.5) * 10 ^ (random() * 20 - 6) AS v FROM generate_series(1, 1000000)
                UNION ALL SELECT k / 100.0 + 0.005 FROM generate_series(1, 100000) k
                UNION ALL SELECT -(k / 100.0 + 0.005) FROM generate_series(1, 100000) k
                UNION ALL SELECT v FROM unnest('{NaN,Infinity,-Infinity,0,-0,1e13,-1e13,1e300,4.9e-324}'::float8[]) v)
SELECT count(*), count(*) FILTER (WHERE scfrisk.round_cents(v)::text IS DISTINCT FROM round(v::numeric, 2)::text)
FROM x""")
n, bad = cur.fetchone()
t.ok(n == 1200009 and bad == 0, "round_cents: %d amounts give round(x::numeric, 2)" % n, "%d differ" % bad)

POLICY = '{"rate": 0.04, "fee": 0.005, "funding_rate": 0.005, "pd_limit": 0.1, "el_rate": 0.01}'
cur.execute("""INSERT INTO scfrisk_demo.risk_result
SELECT s.seller_id, z.decision, z.status, z.reasons, z.loan, z.binding_constraint, z.sales_pd,
       z.credit_pd, z.combined_pd, z.el, z.cvar, 0.95, z.expected_profit, z.tail_resolved,
       z.smallest_reliable_pd, z.limits, now()
FROM scfrisk_demo.sellers s, m,
     LATERAL scfrisk.loan_decision(m.model, scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years,
         s.rating, s.category, s.marketplace, 1), NULL, NULL, %s::jsonb) z
WHERE s.seller_id %% 5 <> 0""", (POLICY,))
cur.execute("INSERT INTO scfrisk_demo.risk_curve_result SELECT q.seller_id, q.loan, q.pd, q.el, q.cvar, "
            "q.expected_profit FROM (%s) q" % CURVE.format(cov="scfrisk.demo_sales_covariates", levels=LEVELS,
                                                            terms="'%s'" % TERMS))
OLD_RISK = """SELECT s.seller_id, s.seller_code, s.category_name, s.marketplace_name,
       round(s.in_transit_value::numeric, 2) AS in_transit_value,
       coalesce(r.decision, 'refer') AS decision, coalesce(r.status, 'not_refreshed') AS status,
       coalesce(r.reasons, ARRAY['not_refreshed']) AS reasons,
       round(r.recommended_loan::numeric, 2) AS recommended_loan, r.binding_constraint,
       r.sales_pd, r.credit_pd, r.combined_pd,
       round(r.el::numeric, 2) AS el, round(r.cvar::numeric, 2) AS cvar, r.cvar_level,
       round(r.expected_profit::numeric, 2) AS expected_profit, r.tail_resolved,
       r.smallest_reliable_pd, r.refreshed_at
FROM scfrisk_demo.sellers s LEFT JOIN scfrisk_demo.risk_result r USING (seller_id)"""
OLD_CURVE = """SELECT c.seller_id, s.seller_code, round(c.loan::numeric, 2) AS loan, c.pd,
       round(c.el::numeric, 2) AS el, round(c.cvar::numeric, 2) AS cvar,
       coalesce((p.policy ->> 'level')::float8, 0.95) AS cvar_level,
       round(c.expected_profit::numeric, 2) AS expected_profit
FROM scfrisk_demo.risk_curve_result c JOIN scfrisk_demo.sellers s USING (seller_id)
     CROSS JOIN scfrisk_demo.policy p"""
for view, old, order in (("seller_risk", OLD_RISK, "q.seller_id"),
                         ("seller_risk_curve", OLD_CURVE, "q.seller_id, q.loan")):
    got = []
    for sql in ("SELECT * FROM scfrisk_demo.%s" % view, old):
        cur.execute("SELECT md5(string_agg(q::text, ',' ORDER BY %s)), count(*), "
                    "count(*) FILTER (WHERE q.el <> 0) FROM (%s) q" % (order, sql))
        got.append(cur.fetchone())
    t.ok(got[0] == got[1] and got[0][1] > 0 and got[0][2] > 0,
         "%s: %d rows (%d with EL > 0), md5 equal to the previous definition's" % (view, got[0][1], got[0][2]),
         "view %s, previous %s" % tuple(got))
t.done()
