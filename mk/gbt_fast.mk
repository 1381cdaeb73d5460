# The fast tree scorer: padded complete trees walked side by side (issue 19 item 2).
CORE_SRCS	+= src/trees/gbt_fast.c src/trees/gbt_fast_bins.c
UNIT_TESTS	+= test/unit/test_gbt_fast.c
