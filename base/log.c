/* log — written mostly from the loop thread; Paho callbacks may log too,
 * so the rate limiter and the write share one mutex. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SITES 128

static enum log_level current = LOG_INFO;   /* set once at start-up */
static const char *const names[] = { "error", "warn", "info", "debug" };

/* One key's window: a call site (text 0), or a call site and the text
 * it wrote (a hash of it). */
struct site {
	const char *file;             /* NULL: free slot */
	int line;
	uint32_t text;
	enum log_level level;
	const char *fmt;              /* a literal: quoted in the summary */
	uint64_t start_ms;            /* window start */
	unsigned written;             /* lines written in this window */
	unsigned long suppressed;     /* lines dropped in this window */
	char sample[160];             /* a text key: the line itself, for the summary */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct site sites[SITES];
static bool atexit_done;
static int journal = -1;        /* stderr is the journal's stream: -1 unknown */
/* sd-daemon(3)'s SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG */
static const int priorities[] = { 3, 4, 6, 7 };

void log_set_level(enum log_level l) { current = l; }

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* systemd connects stderr to the journal and says so in JOURNAL_STREAM,
 * "DEV:INO" of that stream (systemd.exec(5)); a stderr redirected elsewhere
 * since (a shell in the unit, `2>file`) has another device or inode. */
int log_journal_stream(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = -1;

	if (!e || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 || n < 0 || e[n] != '\0')
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Caller holds mu. */
static bool to_journal(void)
{
	if (journal < 0)
		journal = log_journal_stream();
	return journal;
}

/* Caller holds mu. The journal has its own time stamps and reads the
 * priority from a "<N>" prefix. */
static void write_line(enum log_level l, const char *text)
{
	struct timespec ts;
	struct tm tm;

	if (to_journal()) {
		fprintf(stderr, "<%d>%-5s %s\n", priorities[l], names[l], text);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s\n", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000, names[l], text);
}

/* One event, one line: a line break in the text (a topic or payload quoted
 * from the network) would start a line of the text's own making, and in
 * the journal one at any priority it likes. */
static void one_line(char *t)
{
	for (; *t; t++)
		if (*t == '\n' || *t == '\r')
			*t = ' ';
}

/* Caller holds mu: write s's summary and restart its window. */
static void site_summary(struct site *s, uint64_t now)
{
	char line[512];

	if (s->suppressed) {
		snprintf(line, sizeof(line), "%lu similar messages suppressed in %.1f s "
			 "(\"%.200s\", %s:%d)", s->suppressed,
			 (double)(now - s->start_ms) / 1000.0, s->sample[0] ? s->sample : s->fmt,
			 s->file, s->line);
		write_line(s->level, line);
	}
	s->suppressed = 0;
	s->written = 0;
	s->start_ms = now;
}

/* Caller holds mu: summaries of windows that ended. */
static void expire(uint64_t now)
{
	for (int i = 0; i < SITES; i++)
		if (sites[i].file && sites[i].suppressed &&
		    now - sites[i].start_ms >= LOG_WINDOW_S * 1000u)
			site_summary(&sites[i], now);
}

/* Caller holds mu: the site's slot (the oldest is reused when all are
 * taken, after its summary). */
static struct site *site_get(const char *file, int line, uint32_t text, enum log_level l,
			     const char *fmt, uint64_t now, const struct site *keep)
{
	struct site *old = NULL;

	for (int i = 0; i < SITES; i++) {
		struct site *s = &sites[i];
		if (s->file == file && s->line == line && s->text == text) {
			if (now - s->start_ms >= LOG_WINDOW_S * 1000u)
				site_summary(s, now);      /* a new window */
			return s;
		}
		if (s != keep && (!old || !s->file ||
				  (old->file && s->start_ms < old->start_ms)))
			old = s;
	}
	if (old->file)
		site_summary(old, now);
	*old = (struct site){ file, line, text, l, fmt, now, 0, 0, "" };
	return old;
}

/* FNV-1a of the line, never 0 (0 is the call site's own key). */
static uint32_t text_hash(const char *t)
{
	uint32_t h = 2166136261u;

	for (; *t; t++)
		h = (h ^ (unsigned char)*t) * 16777619u;
	return h ? h : 1;
}

static void flush_at_exit(void)
{
	log_flush();
}

void log_flush(void)
{
	uint64_t now = mono_ms();

	pthread_mutex_lock(&mu);
	for (int i = 0; i < SITES; i++)
		if (sites[i].file && sites[i].suppressed)
			site_summary(&sites[i], now);
	fflush(stderr);
	pthread_mutex_unlock(&mu);
}

void log_plain(enum log_level l, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	one_line(text);
	pthread_mutex_lock(&mu);
	if (to_journal())
		fprintf(stderr, "<%d>%s\n", priorities[l], text);
	else
		fprintf(stderr, "%s\n", text);
	pthread_mutex_unlock(&mu);
}

void log_msg_at(const char *file, int line, enum log_level l, const char *fmt, ...)
{
	char text[1024];
	uint64_t now;
	va_list ap;

	if (l > current)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	one_line(text);
	now = mono_ms();
	pthread_mutex_lock(&mu);
	expire(now);
	if (l <= LOG_WARN) {
		/* the same line LOG_BURST times, and any lines LOG_SITE_BURST times */
		struct site *t = site_get(file, line, text_hash(text), l, fmt, now, NULL);
		if (!t->sample[0])
			snprintf(t->sample, sizeof(t->sample), "%.159s", text);
		struct site *s = site_get(file, line, 0, l, fmt, now, t);
		struct site *full = t->written >= LOG_BURST ? t :
				    s->written >= LOG_SITE_BURST ? s : NULL;
		if (full) {
			full->suppressed++;
			if (!atexit_done) {
				/* the count is not lost when the process ends */
				atexit(flush_at_exit);
				atexit_done = true;
			}
			pthread_mutex_unlock(&mu);
			return;
		}
		t->written++;
		s->written++;
	}
	write_line(l, text);
	pthread_mutex_unlock(&mu);
}
