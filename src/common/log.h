/*
 * log.h — the one logging idiom of ctrove.
 *
 * Every line carries time, pid, level, the module that wrote it and the context of
 * the work in progress: `[req-<request id> <resource id>]`, set per thread with
 * log_set_context() when a request, RPC message or task starts and cleared when
 * it ends. The level is checked before anything is formatted.
 * Passwords never reach this module: callers log names and ids, never bodies,
 * and log_json_redacted() masks every key that looks like a secret.
 * Owns the log file descriptor; may not allocate per line.
 */
#ifndef CT_COMMON_LOG_H
#define CT_COMMON_LOG_H

#include <jansson.h>
#include <stdbool.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARNING, LOG_LEVEL_ERROR };

extern enum log_level log_min_level;

/* path NULL or "" = stderr. Returns 0, or -1 when the file cannot be opened. */
int log_open(const char *path, bool debug);
void log_close(void);

/* Per-thread context printed on every line; NULL clears a field. Copied. */
void log_set_context(const char *request_id, const char *resource_id);
void log_clear_context(void);
/* This thread's request id, or NULL (to hand the context to a child). */
const char *log_request_id(void);
/* Where lines go (the log file or stderr), for a child to inherit. */
int log_fileno(void);

void log_write(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A copy of obj with every secret-looking key ("password", "secret", "token" ...)
 * replaced by "***"; caller frees with json_decref. */
json_t *log_json_redacted(const json_t *obj);

#ifndef LOG_MODULE
#define LOG_MODULE "ctrove"
#endif

#define log_at(level, ...)                                                                         \
	do {                                                                                       \
		if ((level) >= log_min_level)                                                      \
			log_write((level), LOG_MODULE, __VA_ARGS__);                               \
	} while (0)
#define log_debug(...)	 log_at(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)	 log_at(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warning(...) log_at(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...)	 log_at(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
