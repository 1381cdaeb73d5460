# The paper's baselines (issue 15): CART trees and random forests on the histogram tree core.
CORE_SRCS	+= src/trees/forest.c src/trees/forest_fit.c src/trees/forest_codec.c
UNIT_TESTS	+= test/unit/test_forest.c
SQL_SRCS	+= src/trees/forest_sql.c src/core/train_agg.c
FUZZ_TARGETS	+= test/fuzz/fuzz_forest.c
# Gaussian naive Bayes (nb_train).
CORE_SRCS	+= src/linear/nb.c
UNIT_TESTS	+= test/unit/test_nb.c
SQL_SRCS	+= src/linear/nb_sql.c
FUZZ_TARGETS	+= test/fuzz/fuzz_nb.c
# Linear SVM with Platt scaling (svm_train).
CORE_SRCS	+= src/linear/svm.c src/linear/svm_codec.c
UNIT_TESTS	+= test/unit/test_svm.c
SQL_SRCS	+= src/linear/svm_sql.c
FUZZ_TARGETS	+= test/fuzz/fuzz_svm.c
# k nearest neighbours (knn_train).
CORE_SRCS	+= src/neighbors/knn.c
UNIT_TESTS	+= test/unit/test_knn.c
SQL_SRCS	+= src/neighbors/knn_sql.c
FUZZ_TARGETS	+= test/fuzz/fuzz_knn.c
