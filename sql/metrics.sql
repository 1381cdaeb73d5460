-- binary_metrics, roc_curve and threshold_table on hand-checkable data
-- (issue 4; definitions in docs/metrics.md).
SET extra_float_digits = 0;
CREATE TABLE met_t (label float8, score float8);
INSERT INTO met_t VALUES (1, 0.9), (0, 0.5), (1, 0.5), (0, 0.2), (1, 0.7), (0, 0.1), (NULL, 0.3), (1, NULL);

-- tp 3, fp 1, tn 2, fn 0; auc 8.5/9 (the tie at 0.5 counts one half)
SELECT key, round(value::numeric, 12) AS value
FROM (SELECT scfrisk.binary_metrics(label, score) AS j FROM met_t) s, jsonb_each_text(j)
ORDER BY key;
SELECT (scfrisk.binary_metrics(label, score, 0.6))->>'tp' AS tp_at_06,
	   (scfrisk.binary_metrics(label, score, 0.6))->>'type1_error' AS type1_at_06
FROM met_t;
-- one class: ranking metrics are null; scores outside [0, 1]: brier and logloss null
SELECT j->'auc' AS auc, j->'ks' AS ks, j->'mcc' AS mcc
FROM (SELECT scfrisk.binary_metrics(0, score) AS j FROM met_t) s;
SELECT j->'brier' AS brier, j->'logloss' AS logloss, round((j->>'auc')::numeric, 6) AS auc
FROM (SELECT scfrisk.binary_metrics(label, score * 10) AS j FROM met_t) s;
SELECT scfrisk.binary_metrics(label, score) IS NULL AS empty_is_null FROM met_t WHERE false;

SELECT threshold, round(fpr::numeric, 6) AS fpr, round(tpr::numeric, 6) AS tpr
FROM scfrisk.roc_curve((SELECT array_agg(label) FROM met_t WHERE label IS NOT NULL AND score IS NOT NULL),
					   (SELECT array_agg(score) FROM met_t WHERE label IS NOT NULL AND score IS NOT NULL));
SELECT threshold, tp, fp, tn, fn, round(accuracy::numeric, 6) AS accuracy, round(precision::numeric, 6) AS precision,
	   round(recall::numeric, 6) AS recall, round(type1_error::numeric, 6) AS t1, round(type2_error::numeric, 6) AS t2,
	   round(f1::numeric, 6) AS f1, round(mcc::numeric, 6) AS mcc
FROM scfrisk.threshold_table(ARRAY[1, 0, 1, 0, 1, 0], ARRAY[0.9, 0.5, 0.5, 0.2, 0.7, 0.1], ARRAY[0, 0.5, 0.8, 1]);

-- errors
SELECT scfrisk.binary_metrics(2, 0.5);
SELECT scfrisk.binary_metrics(1, 'NaN');
SELECT scfrisk.binary_metrics(1, 0.5, 'NaN');
SELECT * FROM scfrisk.roc_curve(ARRAY[1, 1], ARRAY[0.2, 0.3]);
SELECT * FROM scfrisk.roc_curve(ARRAY[1, 0], ARRAY[0.2]);
SELECT * FROM scfrisk.roc_curve(ARRAY[1, 0.5], ARRAY[0.2, 0.1]);
SELECT * FROM scfrisk.threshold_table(ARRAY[1, 0], ARRAY[0.2, 0.1], ARRAY[NULL]::float8[]);
