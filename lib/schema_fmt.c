/*
 * schema_fmt.c: the nine "format" values OpenAI structured outputs accept
 * (date-time, time, date, duration, email, hostname, ipv4, ipv6, uuid),
 * checked the way RFC 3339, RFC 5321/1123, RFC 4291 and RFC 4122 spell
 * them.  Pure functions on NUL-terminated UTF-8.
 */
#include "config.h"

#include <string.h>

#include "schema.h"

enum {
	F_NONE, F_DATETIME, F_TIME, F_DATE, F_DURATION, F_EMAIL, F_HOSTNAME,
	F_IPV4, F_IPV6, F_UUID, F__MAX
};

static const char *const fmt_names[F__MAX] = {
	"", "date-time", "time", "date", "duration", "email", "hostname",
	"ipv4", "ipv6", "uuid"
};

int
rl_schema_format_id(const char *name)
{
	int	 i;

	for (i = 1; i < F__MAX; i++)
		if (strcmp(name, fmt_names[i]) == 0)
			return i;
	return 0;
}

const char *
rl_schema_format_name(int id)
{

	return id > 0 && id < F__MAX ? fmt_names[id] : "";
}

static int
isdig(char c)
{

	return c >= '0' && c <= '9';
}

static int
ishex(char c)
{

	return isdig(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* n decimal digits at s into *v. */
static int
digits(const char *s, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdig(s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* full-date: YYYY-MM-DD; returns characters used or -1. */
static int
date_part(const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int	 y, m, d, max;

	if (digits(s, 4, &y) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &m) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &d) == -1)
		return -1;
	if (m < 1 || m > 12 || d < 1)
		return -1;
	max = mdays[m - 1];
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		max = 29;
	return d > max ? -1 : 10;
}

/* full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM), whole string. */
static int
time_part(const char *s)
{
	int	 h, m, sec, oh = 0, om = 0, sign = 0, uh, um;

	if (digits(s, 2, &h) == -1 || s[2] != ':' ||
	    digits(s + 3, 2, &m) == -1 || s[5] != ':' ||
	    digits(s + 6, 2, &sec) == -1)
		return -1;
	s += 8;
	if (*s == '.') {
		s++;
		if (!isdig(*s))
			return -1;
		while (isdig(*s))
			s++;
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		if (digits(s + 1, 2, &oh) == -1 || s[3] != ':' ||
		    digits(s + 4, 2, &om) == -1 || oh > 23 || om > 59)
			return -1;
		s += 6;
	} else
		return -1;
	if (*s != '\0' || h > 23 || m > 59 || sec > 60)
		return -1;
	if (sec == 60) {
		/* A leap second is 23:59:60 in UTC. */
		um = h * 60 + m - sign * (oh * 60 + om);
		um = ((um % 1440) + 1440) % 1440;
		uh = um / 60;
		um %= 60;
		if (uh != 23 || um != 59)
			return -1;
	}
	return 0;
}

/* ISO 8601 duration as RFC 3339 appendix A has it. */
static int
duration(const char *s)
{
	const char	*units = "YMD";
	const char	*tunits = "HMS", *u;
	int		 n = 0, intime = 0, pos = 0;

	if (*s++ != 'P' || *s == '\0')
		return -1;
	while (*s != '\0') {
		if (*s == 'T') {
			if (intime)
				return -1;
			intime = 1;
			pos = 0;
			s++;
			if (*s == '\0')
				return -1;
			continue;
		}
		if (!isdig(*s))
			return -1;
		while (isdig(*s))
			s++;
		if (*s == 'W' && !intime)	/* weeks stand alone */
			return n == 0 && s[1] == '\0' ? 0 : -1;
		/*
		 * The first unit is any; the next ones follow it without a
		 * gap (dur-year = 1*DIGIT "Y" [dur-month], ...).
		 */
		u = intime ? tunits : units;
		if (pos == 0)
			while (u[pos] != '\0' && u[pos] != *s)
				pos++;
		if (u[pos] == '\0' || u[pos] != *s)
			return -1;
		pos++;
		s++;
		n++;
	}
	return n > 0 ? 0 : -1;
}

static int
ipv4(const char *s, size_t len)
{
	size_t	 i = 0;
	int	 part, v, nd;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		v = 0;
		for (nd = 0; i < len && isdig(s[i]); nd++, i++)
			v = v * 10 + (s[i] - '0');
		if (nd == 0 || nd > 3 || v > 255 ||
		    (nd > 1 && s[i - (size_t)nd] == '0'))
			return -1;
	}
	return i == len ? 0 : -1;
}

static int
ipv6(const char *s)
{
	size_t		 len = strlen(s), i = 0, nd;
	int		 groups = 0, dbl = 0;
	const char	*dot;

	if (len < 2)
		return -1;
	if (s[0] == ':') {
		if (s[1] != ':')
			return -1;
		dbl = 1;
		i = 2;
		if (len == 2)
			return 0;
	}
	while (i < len) {
		/* A trailing IPv4 counts as two groups. */
		dot = strchr(s + i, '.');
		if (dot != NULL && strchr(s + i, ':') == NULL) {
			if (ipv4(s + i, len - i) == -1)
				return -1;
			groups += 2;
			i = len;
			break;
		}
		for (nd = 0; i < len && ishex(s[i]); nd++, i++)
			;
		if (nd == 0 || nd > 4)
			return -1;
		groups++;
		if (i == len)
			break;
		if (s[i] != ':')
			return -1;
		i++;
		if (i < len && s[i] == ':') {
			if (dbl)
				return -1;
			dbl = 1;
			i++;
			if (i == len)
				break;
		} else if (i == len)
			return -1;
	}
	return dbl ? (groups < 8 ? 0 : -1) : (groups == 8 ? 0 : -1);
}

static int
hostname(const char *s)
{
	size_t	 len = strlen(s), lab = 0, i;

	if (len == 0 || len > 253)
		return -1;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-' ||
			    s[i - lab] == '-')
				return -1;
			/* "--" in the 3rd and 4th positions: A-labels only */
			if (lab >= 4 && s[i - lab + 2] == '-' &&
			    s[i - lab + 3] == '-' &&
			    !((s[i - lab] == 'x' || s[i - lab] == 'X') &&
			    (s[i - lab + 1] == 'n' || s[i - lab + 1] == 'N')))
				return -1;
			lab = 0;
			continue;
		}
		if (!(isdig(s[i]) || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
			return -1;
		lab++;
	}
	return 0;
}

static int
email(const char *s)
{
	const char	*at = strrchr(s, '@'), *p, *dom;
	char		 buf[256];
	size_t		 n;

	if (at == NULL || at == s)
		return -1;
	dom = at + 1;
	if (s[0] == '"') {
		/* quoted local part */
		for (p = s + 1; p < at - 1; p++) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				return -1;
		}
		if (at - s < 2 || at[-1] != '"')
			return -1;
	} else {
		if (s[0] == '.' || at[-1] == '.')
			return -1;
		for (p = s; p < at; p++) {
			if (*p == '.' && p[1] == '.')
				return -1;
			if ((unsigned char)*p < 0x21 ||
			    strchr("()<>[]:;@\\,\"", *p) != NULL)
				return -1;
		}
	}
	if (dom[0] == '[') {
		n = strlen(dom);
		if (n < 3 || dom[n - 1] != ']' || n - 2 >= sizeof(buf))
			return -1;
		memcpy(buf, dom + 1, n - 2);
		buf[n - 2] = '\0';
		if (strncmp(buf, "IPv6:", 5) == 0)
			return ipv6(buf + 5);
		return ipv4(buf, n - 2);
	}
	return hostname(dom);
}

static int
uuid(const char *s)
{
	int	 i;

	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
		} else if (!ishex(s[i]))
			return -1;
	}
	return s[36] == '\0' ? 0 : -1;
}

/* 1 when s is valid for the format (or the format is unknown), else 0. */
int
rl_schema_format_check(int id, const char *s)
{
	int	 n;

	switch (id) {
	case F_DATE:
		return date_part(s) == 10 && s[10] == '\0';
	case F_TIME:
		return time_part(s) == 0;
	case F_DATETIME:
		if ((n = date_part(s)) == -1 ||
		    (s[n] != 'T' && s[n] != 't'))
			return 0;
		return time_part(s + n + 1) == 0;
	case F_DURATION:
		return duration(s) == 0;
	case F_EMAIL:
		return email(s) == 0;
	case F_HOSTNAME:
		return hostname(s) == 0;
	case F_IPV4:
		return ipv4(s, strlen(s)) == 0;
	case F_IPV6:
		return ipv6(s) == 0;
	case F_UUID:
		return uuid(s) == 0;
	}
	return 1;
}
