# QRGMM with a quantile DeepFM network (issue 8): network, training, codec,
# the qrgmm_deepfm_train aggregate and the DeepFM overloads of generation.
CORE_SRCS	+= src/deepfm_net.c src/deepfm_fit.c src/deepfm_train.c src/deepfm_refit.c src/deepfm_codec.c
UNIT_TESTS	+= test/unit/test_deepfm.c
FUZZ_TARGETS	+= test/fuzz/fuzz_deepfm.c
SQL_SRCS	+= src/deepfm_agg.c src/deepfm_sql.c
