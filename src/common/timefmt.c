/*
 * timefmt.c — see timefmt.h.
 */
#include "common/timefmt.h"

#include <stdio.h>
#include <string.h>

static void fmt(time_t t, const char *pattern, char out[CT_TIME_LEN])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, CT_TIME_LEN, pattern, &tm);
}

void timefmt_trove(time_t t, char out[CT_TIME_LEN])
{
	fmt(t, "%Y-%m-%dT%H:%M:%S", out);
}

void timefmt_zulu(time_t t, char out[CT_TIME_LEN])
{
	fmt(t, "%Y-%m-%dT%H:%M:%SZ", out);
}

void timefmt_keystone(time_t t, char out[CT_TIME_LEN])
{
	fmt(t, "%Y-%m-%dT%H:%M:%S.000000Z", out);
}

void timefmt_db_now(char out[CT_TIME_LEN])
{
	fmt(time(NULL), "%Y-%m-%d %H:%M:%S", out);
}

void timefmt_db_to_trove(const char *db, char out[CT_TIME_LEN])
{
	out[0] = '\0';
	if (!db || strlen(db) < 19)
		return;
	memcpy(out, db, 19);
	out[10] = 'T';
	out[19] = '\0';
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool timefmt_db_parse(const char *db, time_t *out)
{
	if (!db || strlen(db) < 19 || db[4] != '-' || db[7] != '-' ||
	    (db[10] != ' ' && db[10] != 'T') || db[13] != ':' || db[16] != ':')
		return false;
	struct tm tm = {
		.tm_year = digits(db, 4) - 1900,
		.tm_mon = digits(db + 5, 2) - 1,
		.tm_mday = digits(db + 8, 2),
		.tm_hour = digits(db + 11, 2),
		.tm_min = digits(db + 14, 2),
		.tm_sec = digits(db + 17, 2),
	};
	if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 ||
	    tm.tm_sec < 0)
		return false;
	*out = timegm(&tm);
	return true;
}

long long timefmt_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}
