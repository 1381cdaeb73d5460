#!/usr/bin/env bash
# Draw the pictures of docs/risk.md from the BI views of the demo data set:
#   docs/img/risk_curve.png   PD, EL and CVaR of one seller against the loan
#   docs/img/loan_sizes.png   distribution of the recommended loans by binding constraint
# Needs psql on a database where scfrisk.generate_demo_data(...) and
# scfrisk_demo.refresh_risk() ran (PG* variables), and gnuplot (Debian's gnuplot-nox).
#   docs/risk_plots.sh [SELLER_ID]      (default: the seller with the median loan)
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

seller=${1:-$(psql -XAtqc "SELECT seller_id FROM scfrisk_demo.seller_risk ORDER BY recommended_loan
	OFFSET (SELECT count(*) / 2 FROM scfrisk_demo.seller_risk) LIMIT 1")}
psql -XAtq -F ' ' -c "SELECT loan, pd, el, cvar, expected_profit FROM scfrisk_demo.seller_risk_curve
	WHERE seller_id = $seller ORDER BY loan" >"$tmp/curve.dat"
read -r code loan binding < <(psql -XAtq -F ' ' -c "SELECT seller_code, round(recommended_loan), binding_constraint
	FROM scfrisk_demo.seller_risk WHERE seller_id = $seller")
# recommended loans in bins of 2,000, one count column per binding constraint
psql -XAtq -F ' ' -c "SELECT b * 2, count(*) FILTER (WHERE binding_constraint = 'el_rate'),
	count(*) FILTER (WHERE binding_constraint = 'ltv_cap'), count(*) FILTER (WHERE binding_constraint = 'pd_limit'),
	count(*) FILTER (WHERE binding_constraint = 'credit_line'), count(*) FILTER (WHERE binding_constraint = 'cvar_budget'),
	count(*) FILTER (WHERE binding_constraint = 'profit_optimum')
	FROM generate_series(0, (SELECT floor(max(recommended_loan) / 2000)::int FROM scfrisk_demo.seller_risk)) b
	LEFT JOIN scfrisk_demo.seller_risk r ON floor(r.recommended_loan / 2000) = b
	GROUP BY b ORDER BY b" >"$tmp/sizes.dat"

gnuplot <<GP
set terminal pngcairo size 900,520 font "sans,11" background rgb "white" noenhanced
set output "img/risk_curve.png"
set title "Risk curve of seller $code (recommended loan $loan, binding: $binding)"
set xlabel "loan"
set ylabel "probability of default"
set y2label "EL, CVaR 95% and expected profit"
set ytics nomirror
set y2tics
set key left top
set grid
set arrow from $loan, graph 0 to $loan, graph 1 nohead dt 2 lc rgb "gray40"
plot "$tmp/curve.dat" using 1:2 axes x1y1 with linespoints lw 2 title "PD", \
     "$tmp/curve.dat" using 1:3 axes x1y2 with lines lw 2 title "EL", \
     "$tmp/curve.dat" using 1:4 axes x1y2 with lines lw 2 dt 3 title "CVaR 95%", \
     "$tmp/curve.dat" using 1:5 axes x1y2 with lines lw 2 dt 4 title "expected profit"

set output "img/loan_sizes.png"
unset arrow
unset y2tics
unset y2label
set title "Recommended loans of the demo sellers, by binding constraint"
set xlabel "recommended loan, thousands (bins of 2,000)"
set ylabel "sellers"
set key right top
set style data histograms
set style histogram rowstacked
set style fill solid 0.7 border -1
set boxwidth 0.85
set xtics rotate by -45
plot "$tmp/sizes.dat" using 2:xtic(1) title "el_rate", \
     "" using 3 title "ltv_cap", "" using 4 title "pd_limit", "" using 5 title "credit_line", \
     "" using 6 title "cvar_budget", "" using 7 title "profit_optimum"
GP
echo "wrote docs/img/risk_curve.png and docs/img/loan_sizes.png (seller $code)"
