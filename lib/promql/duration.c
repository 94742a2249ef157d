/* duration.c - Prometheus durations (see duration.h). */
#include "promql/duration.h"

#include <string.h>

#define MS_MAX (INT64_MAX / 1000000)	/* time.Duration's range, in ms */

static const struct unit {
	const char *name;
	int64_t ms;
} units[] = {
	{"y", 365LL * 24 * 3600 * 1000}, {"w", 7LL * 24 * 3600 * 1000},
	{"d", 24LL * 3600 * 1000}, {"h", 3600LL * 1000}, {"m", 60LL * 1000},
	{"s", 1000}, {"ms", 1},
};

#define NUNITS (sizeof(units) / sizeof(units[0]))

/* The unit spelled at s[0..len), preferring "ms" over "m". */
static size_t
unit_at(const char *s, size_t len, size_t *ulen)
{
	size_t u;

	if (len >= 2 && s[0] == 'm' && s[1] == 's') {
		*ulen = 2;
		return NUNITS - 1;
	}
	for (u = 0; u < NUNITS - 1; u++) {
		if (len >= 1 && s[0] == units[u].name[0]) {
			*ulen = 1;
			return u;
		}
	}
	return NUNITS;
}

int
pq_duration_parse(const char *s, size_t len, int64_t *ms, struct perr *e)
{
	size_t i = 0, next_unit = 0, u, ulen, digits;
	int64_t total = 0, n;
	int overflow = 0;

	if (len == 1 && s[0] == '0') {
		*ms = 0;
		return 0;
	}
	if (len == 0)
		return perr_set(e, PERR_INVALID, "empty duration string");
	while (i < len) {
		n = 0;
		digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (n > (INT64_MAX - 9) / 10)
				overflow = 1;
			else
				n = n * 10 + (s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0)
			goto bad;
		u = unit_at(s + i, len - i, &ulen);
		if (u == NUNITS || u < next_unit)
			goto bad;
		i += ulen;
		next_unit = u + 1;
		if (overflow || n > MS_MAX / units[u].ms ||
		    total > MS_MAX - n * units[u].ms)
			overflow = 1;
		else
			total += n * units[u].ms;
	}
	if (overflow)
		return perr_set(e, PERR_INVALID, "duration out of range");
	*ms = total;
	return 0;
bad:
	return perr_set(e, PERR_INVALID, "not a valid duration string: "
	    "\"%.*s\"", (int)(len > 80 ? 80 : len), s);
}

int
pq_duration_format(struct buf *b, int64_t ms)
{
	size_t u;
	int64_t v;
	int rc;

	if (ms == 0)
		return buf_adds(b, "0s");
	for (u = 0; u < NUNITS; u++) {
		/* Years and weeks only when exact: "90d" reads better than "12w6d". */
		if (u < 2 && ms % units[u].ms != 0)
			continue;
		v = ms / units[u].ms;
		if (v > 0) {
			if ((rc = buf_addf(b, "%lld%s", (long long)v,
			    units[u].name)) != 0)
				return rc;
			ms -= v * units[u].ms;
		}
	}
	return 0;
}
