"""Upgrades: ALTER EXTENSION scfrisk UPDATE from the previous release (issue 18).

1. In one database, the previous release's SQL (CREATE EXTENSION scfrisk
   VERSION '0.1.0', the committed sql/scfrisk--0.1.0.sql): models of every
   kind (gbt, mlp, xgb_mlp, logreg, qrgmm_linear, qrgmm_deepfm) are trained and
   scored, and the registry gets rows (saved versions, a deploy, a registered
   training, a retrain).  Then ALTER EXTENSION scfrisk UPDATE: the extension is
   at the default version, every old model still decodes (model_info) and
   scores exactly as before, scoring by name gives the same, and the registry
   tables hold the same rows (md5 of the model bytes, statuses, history) and
   keep working (a retrain after the update).
2. The catalog of that updated install is compared with a fresh install of
   the default version in another database: every extension member, and for
   functions and aggregates the signature, kind, result, argument defaults,
   volatility, strictness, parallel safety, security definer, leakproofness,
   settings, cost, md5 of the source, ACL and comment; view definitions; table
   columns (type, not null, default), constraints, indexes, ACLs and comments;
   the configuration tables.  A missing or wrong update fragment
   (sql/update/A--B/NN_*.sql) fails here with the object named.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

OLD = "0.1.0"
DB_OLD = "t_upgrade_old"
DB_NEW = "t_upgrade_new"

DATA_SQL = """
CREATE TABLE up_train AS
SELECT i, ARRAY[((i * 7919) % 1000) / 1000.0, ((i * 104729) % 997) / 997.0,
                ((i * 1299709) % 991) / 991.0]::float8[] AS features,
       ARRAY[(i % 4), (i % 3)]::int[] AS cat,
       0::float8 AS label, 0::float8 AS y
FROM generate_series(1, 1200) AS i;
UPDATE up_train SET label = (features[1] * 2 - features[2] + 0.5 * features[3]
                             + ((i * 31) % 100) / 100.0 > 1.2)::int,
                    y = 10 + 3 * features[1] - features[2] + cat[1] + ((i * 7) % 50) / 25.0;
"""

# (kind, training SQL of one model, scoring SQL of model m on row r of up_train)
KINDS = [
    ("gbt", "scfrisk.xgb_train(features, label, '{\"n_estimators\": 20, \"max_depth\": 3}')",
     "scfrisk.predict(m, r.features)"),
    ("mlp", "scfrisk.mlp_train(features, label, '{\"hidden\": [8], \"epochs\": 5, \"seed\": 1}')",
     "scfrisk.predict(m, r.features)"),
    ("xgb_mlp", "scfrisk.xgb_mlp_train(features, label, '{\"threshold\": 0.01, "
                "\"xgb\": {\"n_estimators\": 10}, \"mlp\": {\"hidden\": [8], \"epochs\": 5}}')",
     "scfrisk.predict(m, r.features)"),
    ("logreg", "scfrisk.logreg_train(features, label, '{\"C\": 1}')",
     "scfrisk.predict(m, r.features)"),
    ("qrgmm_linear", "scfrisk.qrgmm_train(features, y, '{\"m\": 20}')",
     "scfrisk.qrgmm_quantile(m, r.features, 0.3)"),
    ("qrgmm_deepfm", "scfrisk.qrgmm_deepfm_train(features, cat, y, "
                     "'{\"k\": 4, \"layers\": [8], \"m\": 10, \"epochs\": 3, \"seed\": 1}')",
     "scfrisk.qrgmm_quantile(m, r.features, r.cat, 0.3)"),
]

REGISTRY_SQL = """
SELECT scfrisk.save_model('pd_model', (SELECT model FROM up_models WHERE kind = 'logreg'));
SELECT scfrisk.save_model('pd_model', (SELECT model FROM up_models WHERE kind = 'gbt'), '{"note": "by hand"}');
SELECT scfrisk.deploy('pd_model', 2);
SELECT scfrisk.save_model('sales', (SELECT model FROM up_models WHERE kind = 'qrgmm_linear'));
SELECT scfrisk.register_training('pd_model', 'logreg', 'SELECT features, label FROM public.up_train', '{"C": 1}');
"""

SNAPSHOT_SQL = """
SELECT json_build_object(
  'models', (SELECT json_agg(json_build_object('name', name, 'created_by', created_by) ORDER BY name)
             FROM scfrisk.registry_model),
  'versions', (SELECT json_agg(json_build_object('name', name, 'version', version, 'status', status,
                                                 'md5', md5, 'bytes', bytes) ORDER BY name, version)
               FROM scfrisk.model_versions),
  'history', (SELECT json_agg(json_build_object('id', id, 'name', name, 'action', action,
                                                'from', from_version, 'to', to_version, 'by', by)
                              ORDER BY id) FROM scfrisk.model_history),
  'training', (SELECT json_agg(row_to_json(t)::jsonb - 'registered_at' ORDER BY name)
               FROM scfrisk.registry_training t))
"""

# One row per (category, object): a description to compare, as text.
CATALOG_SQL = r"""
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'scfrisk'),
members AS (
  SELECT d.classid, d.objid, pg_describe_object(d.classid, d.objid, 0) AS what
  FROM pg_depend d, ext WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
    AND d.deptype = 'e')
SELECT 'member', what, '' FROM members
UNION ALL
SELECT 'function', p.oid::regprocedure::text,
       concat_ws(' | ', p.prokind, pg_get_function_result(p.oid), pg_get_function_arguments(p.oid),
                 p.provolatile, p.proisstrict, p.proparallel, p.prosecdef, p.proleakproof,
                 p.proconfig::text, p.procost, p.prorows, p.probin, md5(p.prosrc),
                 p.proacl::text, obj_description(p.oid, 'pg_proc'))
FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
UNION ALL
SELECT 'aggregate', a.aggfnoid::regprocedure::text,
       concat_ws(' | ', a.aggkind, a.aggtransfn::regproc, a.aggfinalfn::regproc, a.aggcombinefn::regproc,
                 a.aggserialfn::regproc, a.aggdeserialfn::regproc, a.aggtranstype::regtype,
                 a.aggtransspace, a.agginitval, a.aggfinalmodify)
FROM pg_aggregate a JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = a.aggfnoid
UNION ALL
SELECT 'relation', c.oid::regclass::text,
       concat_ws(' | ', c.relkind, c.relacl::text, obj_description(c.oid, 'pg_class'),
                 CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END)
FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
UNION ALL
SELECT 'column', c.oid::regclass::text || '.' || a.attname,
       concat_ws(' | ', a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                 pg_get_expr(ad.adbin, ad.adrelid), a.attacl::text, col_description(c.oid, a.attnum))
FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
UNION ALL
SELECT 'constraint', co.conrelid::regclass::text || ' ' || co.conname, pg_get_constraintdef(co.oid)
FROM pg_constraint co JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = co.conrelid
UNION ALL
SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = i.indrelid
UNION ALL
SELECT 'type', t.oid::regtype::text, concat_ws(' | ', t.typtype, obj_description(t.oid, 'pg_type'))
FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
UNION ALL
SELECT 'schema comment', n.nspname, obj_description(n.oid, 'pg_namespace')
FROM pg_namespace n WHERE n.nspname = 'scfrisk'
UNION ALL
SELECT 'configuration table', c::regclass::text, coalesce(e.extcondition[i], '')
FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY AS u(c, i) WHERE e.extname = 'scfrisk'
"""


def connect(db):
    c = psycopg2.connect(dbname=db)
    c.autocommit = True
    return c


def one(cur, sql, args=None):
    cur.execute(sql, args)
    return cur.fetchone()[0]


def scores(cur):
    """{kind: [score of rows 1..50]} of the models in up_models."""
    out = {}
    for kind, _, score in KINDS:
        cur.execute("SELECT array_agg(%s ORDER BY r.i) FROM up_models, up_train r "
                    "WHERE up_models.kind = %%s AND r.i <= 50" % score.replace("(m,", "(up_models.model,"),
                    (kind,))
        out[kind] = cur.fetchone()[0]
    return out


def catalog(db):
    with connect(db) as c, c.cursor() as cur:
        cur.execute(CATALOG_SQL)
        rows = cur.fetchall()
    c.close()
    return {(cat, name): desc for cat, name, desc in rows}


def main():
    t = Tap()
    admin = connect(os.environ.get("PGDATABASE", "postgres"))
    acur = admin.cursor()
    for db in (DB_OLD, DB_NEW):
        acur.execute('DROP DATABASE IF EXISTS "%s"' % db)
        acur.execute('CREATE DATABASE "%s"' % db)

    c = connect(DB_OLD)
    cur = c.cursor()
    cur.execute("CREATE EXTENSION scfrisk VERSION %s", (OLD,))
    t.ok(one(cur, "SELECT extversion FROM pg_extension WHERE extname = 'scfrisk'") == OLD,
         "CREATE EXTENSION scfrisk VERSION '%s' installs the previous release" % OLD)
    default = one(cur, "SELECT default_version FROM pg_available_extensions WHERE name = 'scfrisk'")
    cur.execute(DATA_SQL)
    cur.execute("CREATE TABLE up_models (kind text PRIMARY KEY, model bytea)")
    made = []
    for kind, train, _ in KINDS:
        try:
            cur.execute("INSERT INTO up_models SELECT %%s, %s FROM up_train" % train, (kind,))
            made.append(one(cur, "SELECT scfrisk.model_kind(model) FROM up_models WHERE kind = %s", (kind,)))
        except psycopg2.Error as e:
            made.append("error: %s" % e)
    t.ok(made == [k for k, _, _ in KINDS], "a model of every kind under %s" % OLD, json.dumps(made))
    before = scores(cur)
    info_before = {k: one(cur, "SELECT scfrisk.model_info(model) FROM up_models WHERE kind = %s", (k,))
                   for k, _, _ in KINDS}
    cur.execute(REGISTRY_SQL)
    cur.execute("CALL scfrisk.retrain('pd_model')")
    by_name_before = one(cur, "SELECT array_agg(scfrisk.predict('pd_model', features) ORDER BY i) "
                              "FROM up_train WHERE i <= 50")
    snap_before = one(cur, SNAPSHOT_SQL)
    t.ok(len(snap_before["versions"]) == 4 and any(h["action"] == "retrain" for h in snap_before["history"]),
         "registry rows under %s: versions, deploy, training, retrain" % OLD, json.dumps(snap_before)[:2000])

    cur.execute("ALTER EXTENSION scfrisk UPDATE")
    ver = one(cur, "SELECT extversion FROM pg_extension WHERE extname = 'scfrisk'")
    t.ok(ver == default and ver != OLD, "ALTER EXTENSION scfrisk UPDATE goes to %s" % default, ver)

    # a new session: no cached plans or decoded models of the old definitions
    c.close()
    c = connect(DB_OLD)
    cur = c.cursor()
    after = scores(cur)
    for kind, _, _ in KINDS:
        t.ok(after.get(kind) is not None and after.get(kind) == before.get(kind),
             "%s model of %s scores the same after the update (50 rows, exact)" % (kind, OLD),
             "before %s\nafter  %s" % (before.get(kind), after.get(kind)))
    decoded = {}
    for kind, _, _ in KINDS:
        try:
            info = one(cur, "SELECT scfrisk.model_info(model) FROM up_models WHERE kind = %s", (kind,))
            decoded[kind] = info["kind"] == info_before[kind]["kind"] and \
                info["params"] == info_before[kind]["params"]
        except psycopg2.Error as e:
            decoded[kind] = str(e)
    t.ok(all(v is True for v in decoded.values()), "every old model decodes after the update (model_info)",
         json.dumps(decoded))
    snap_after = one(cur, SNAPSHOT_SQL)
    t.ok(snap_after == snap_before, "registry rows intact after the update",
         "before %s\nafter  %s" % (json.dumps(snap_before), json.dumps(snap_after)))
    by_name_after = one(cur, "SELECT array_agg(scfrisk.predict('pd_model', features) ORDER BY i) "
                             "FROM up_train WHERE i <= 50")
    t.ok(by_name_after == by_name_before, "scoring by name gives the same after the update")
    try:
        cur.execute("CALL scfrisk.retrain('pd_model')")
        n = one(cur, "SELECT max(version) FROM scfrisk.model_versions WHERE name = 'pd_model'")
        t.ok(n == 4, "retrain after the update saves the next version", str(n))
    except psycopg2.Error as e:
        t.ok(False, "retrain after the update saves the next version", str(e))
    c.close()

    with connect(DB_NEW) as n:
        n.cursor().execute("CREATE EXTENSION scfrisk")
    n.close()
    upd, fresh = catalog(DB_OLD), catalog(DB_NEW)
    t.ok(len(fresh) > 100, "the catalog query sees the extension's objects (%d rows)" % len(fresh))
    for cat in sorted({k[0] for k in fresh} | {k[0] for k in upd}):
        keys = sorted({k for k in fresh if k[0] == cat} | {k for k in upd if k[0] == cat})
        diff = []
        for k in keys:
            if k not in upd:
                diff.append("missing after the update: %s %s" % k)
            elif k not in fresh:
                diff.append("only after the update (not in a fresh install): %s %s" % k)
            elif upd[k] != fresh[k]:
                diff.append("differs: %s %s\n  updated: %s\n  fresh:   %s" % (k[0], k[1], upd[k], fresh[k]))
        t.ok(not diff, "updated install = fresh %s install: %s (%d)" % (default, cat, len(keys)),
             "\n".join(diff[:40]) + ("\n... %d more" % (len(diff) - 40) if len(diff) > 40 else ""))

    for db in (DB_OLD, DB_NEW):
        acur.execute('DROP DATABASE IF EXISTS "%s"' % db)
    t.done()


if __name__ == "__main__":
    main()
