# QRGMM with a quantile DeepFM network (issue 8): network, training, codec,
# the qrgmm_deepfm_train aggregate and the DeepFM overloads of generation.
CORE_SRCS	+= src/qrgmm/deepfm_net.c src/qrgmm/deepfm_fit.c src/qrgmm/deepfm_train.c src/qrgmm/deepfm_refit.c src/qrgmm/deepfm_codec.c
UNIT_TESTS	+= test/unit/test_deepfm.c
FUZZ_TARGETS	+= test/fuzz/fuzz_deepfm.c
SQL_SRCS	+= src/qrgmm/deepfm_agg.c src/qrgmm/deepfm_sql.c
