/*
 * archive_mark.h — how the agent tells, without a worker or a connection,
 * that the server wrote nothing an archive round would ship (issue 18): a
 * mark of the files the server writes them to (the archive_source_dir slot:
 * binary logs, pg_wal) — their number, total size and newest change — taken
 * before each round. Owns nothing; reads directory entries only.
 */
#ifndef CTROVE_GUEST_ARCHIVE_MARK_H
#define CTROVE_GUEST_ARCHIVE_MARK_H

#include <stdbool.h>
#include <time.h>

struct archive_mark {
	bool valid;		/* read, and at least one file matched */
	long long files, bytes; /* regular files with the prefix, their sizes */
	struct timespec newest; /* the latest mtime among them and the directory's */
	struct timespec taken;	/* CLOCK_REALTIME when the mark was taken */
};

/* Read the mark of dir's files whose names start with prefix. Never fails:
 * an unreadable directory or no matching file gives an invalid mark. */
void archive_mark_take(const char *dir, const char *prefix, struct archive_mark *out);

/* Both marks valid and equal, and the first settled: its newest change was
 * at least a second before it was taken, so a later write cannot share its
 * mtime (file times may be as coarse as a clock tick). Then nothing was
 * written between the two marks. */
bool archive_mark_unchanged(const struct archive_mark *before, const struct archive_mark *now);

#endif
