/* log — one line per event on stderr, with a level filter.
 *
 * Each line is "TIME LEVEL TEXT" (UTC, milliseconds). When stderr is the
 * systemd journal's stream (JOURNAL_STREAM names its device and inode) it
 * is "<N>LEVEL TEXT" instead: N the syslog priority (3 error, 4 warn,
 * 6 info, 7 debug, as sd-daemon(3)), no time stamp (the journal keeps one).
 *
 * Repeated warnings and errors are rate-limited: in a LOG_WINDOW_S window a
 * call site writes the same line at most LOG_BURST times and any lines at
 * most LOG_SITE_BURST times; the rest are counted, and one line says how
 * many were suppressed (when the key logs again after its window, at the
 * next line of any site after that, or at exit). Info and debug lines are
 * never suppressed. */
#ifndef MQTTTY_LOG_H
#define MQTTTY_LOG_H

#define LOG_BURST 5
#define LOG_SITE_BURST 20
#define LOG_WINDOW_S 10

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level l);
int log_level_parse(const char *s, enum log_level *out);
/* file/line name the call site (the rate limiter's key); fmt must be a
 * string literal (it is quoted in the "suppressed" line). Thread-safe. */
void log_msg_at(const char *file, int line, enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Messages that are no log events (start-up failures, "mqttty: ..."):
 * TEXT alone, with the "<N>" prefix at level l when stderr is the journal;
 * never filtered or rate-limited. */
void log_plain(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 when stderr is the journal's stream (JOURNAL_STREAM matches fd 2). */
int log_journal_stream(void);
/* Write the pending "suppressed" lines now. */
void log_flush(void);

#define log_msg(l, ...) log_msg_at(__FILE__, __LINE__, l, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
