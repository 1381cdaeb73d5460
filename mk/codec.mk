# The metadata prelude every kind's codec writes and reads (issue 21): src/core/codec.c.
CORE_SRCS	+= src/core/codec.c
