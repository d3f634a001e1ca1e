# RL_CHECK_CFLAG(FLAG, ACTION-IF-OK): probe one compiler flag; -Werror so that
# a compiler that merely warns about an unknown flag counts as not supporting it.
AC_DEFUN([RL_CHECK_CFLAG], [
	AS_VAR_PUSHDEF([rl_var], [rl_cv_cflag_$1])
	AC_CACHE_CHECK([whether $CC accepts $1], [rl_var], [
		rl_save_CFLAGS=$CFLAGS
		CFLAGS="$CFLAGS -Werror $1"
		AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
		    [AS_VAR_SET([rl_var], [yes])], [AS_VAR_SET([rl_var], [no])])
		CFLAGS=$rl_save_CFLAGS
	])
	AS_VAR_IF([rl_var], [yes], [$2])
	AS_VAR_POPDEF([rl_var])
])

# AX_PTHREAD_SIMPLE: glibc has threads in libc since 2.34, but -pthread is
# still the portable spelling for both compile and link.
AC_DEFUN([AX_PTHREAD_SIMPLE], [
	PTHREAD_CFLAGS=-pthread
	PTHREAD_LIBS=-pthread
	AC_SUBST([PTHREAD_CFLAGS])
	AC_SUBST([PTHREAD_LIBS])
])
