#!/usr/bin/env bash
# Draw the pictures of docs/risk.md from the BI views of the demo data set:
#   docs/img/risk_curve.png   PD, EL and CVaR of one seller against the loan
#   docs/img/loan_sizes.png   the lending decision: recommended loans by decision
#                             (approve by binding constraint, refer, decline)
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
read -r code loan binding decision spd cpd < <(psql -XAtq -F ' ' -c "SELECT seller_code, round(recommended_loan),
	binding_constraint, decision, round(sales_pd::numeric, 4), round(credit_pd::numeric, 4)
	FROM scfrisk_demo.seller_risk WHERE seller_id = $seller")
# recommended loans in bins of 2,000: approved ones by binding constraint, then referred, declined
psql -XAtq -F ' ' -c "SELECT b * 2,
	count(*) FILTER (WHERE decision = 'approve' AND binding_constraint IN ('pd_limit', 'el_rate', 'cvar_budget', 'profit_optimum')),
	count(*) FILTER (WHERE decision = 'approve' AND binding_constraint = 'credit_pd_limit'),
	count(*) FILTER (WHERE decision = 'approve' AND binding_constraint IN ('ltv_cap', 'credit_line')),
	count(*) FILTER (WHERE decision = 'refer'), count(*) FILTER (WHERE decision = 'decline')
	FROM generate_series(0, (SELECT floor(max(recommended_loan) / 2000)::int FROM scfrisk_demo.seller_risk)) b
	LEFT JOIN scfrisk_demo.seller_risk r ON floor(r.recommended_loan / 2000) = b
	GROUP BY b ORDER BY b" >"$tmp/sizes.dat"

gnuplot <<GP
set terminal pngcairo size 900,520 font "sans,11" background rgb "white" noenhanced
set output "img/risk_curve.png"
set title "Seller $code: $decision a loan of $loan (binding: $binding; sales PD $spd, credit PD $cpd)"
set xlabel "loan"
set ylabel "probability of default"
set y2label "EL, CVaR 95% and expected profit (sales model)"
set ytics nomirror
set y2tics
set key left top
set grid
set arrow from $loan, graph 0 to $loan, graph 1 nohead dt 2 lc rgb "gray40"
plot "$tmp/curve.dat" using 1:2 axes x1y1 with linespoints lw 2 title "sales PD", \
     "$tmp/curve.dat" using 1:3 axes x1y2 with lines lw 2 title "EL", \
     "$tmp/curve.dat" using 1:4 axes x1y2 with lines lw 2 dt 3 title "CVaR 95%", \
     "$tmp/curve.dat" using 1:5 axes x1y2 with lines lw 2 dt 4 title "expected profit"

set output "img/loan_sizes.png"
unset arrow
unset y2tics
unset y2label
set title "The lending decision for the demo sellers: recommended loans by decision"
set xlabel "recommended loan, thousands (bins of 2,000)"
set ylabel "sellers"
set key right top
set style data histograms
set style histogram rowstacked
set style fill solid 0.7 border -1
set boxwidth 0.85
set xtics rotate by -45
plot "$tmp/sizes.dat" using 2:xtic(1) title "approve: a sales-model limit binds", \
     "" using 3 title "approve: the credit PD limit binds", \
     "" using 4 title "approve: LTV cap or credit line", \
     "" using 5 title "refer", "" using 6 title "decline"
GP
echo "wrote docs/img/risk_curve.png and docs/img/loan_sizes.png (seller $code)"
