# Training progress: the NOTICE listener of every trainer's "verbose" parameter (issue 18).
SQL_SRCS	+= src/core/progress_pg.c
