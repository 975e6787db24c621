/* bench_common — what paho_bench and pty_bench share: a monotonic clock,
 * sample statistics, a Paho MQTTAsync client that connects synchronously
 * (MQTT 3.1.1, TCP_NODELAY like the gateway), and /proc readings.
 *
 * Benchmark tools only: not part of the gateway. */
#ifndef MQTTTY_BENCH_COMMON_H
#define MQTTTY_BENCH_COMMON_H

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

uint64_t bench_now_ns(void);
void bench_sleep_ns(uint64_t ns);
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Condition variables on CLOCK_MONOTONIC. wait_flag: until *flag or ms
 * pass (0 / -1); wait_ms: one wake-up or ms, for loops that re-check.
 * Both are called with mu held. */
void bench_cond_init(pthread_cond_t *cv);
int bench_cond_wait_flag(pthread_mutex_t *mu, pthread_cond_t *cv, const bool *flag, int ms);
void bench_cond_wait_ms(pthread_mutex_t *mu, pthread_cond_t *cv, int ms);

/* ---- samples ---------------------------------------------------------- */

struct samples {
	uint64_t *v;        /* nanoseconds */
	size_t n, cap;
};

void samples_add(struct samples *s, uint64_t ns);
/* Sorts in place; q in [0,1], nearest-rank. */
uint64_t samples_quantile(struct samples *s, double q);
/* One value per line, in microseconds with 3 decimals, in measuring order. */
void samples_write(const struct samples *s, const char *path);

/* ---- Paho ------------------------------------------------------------- */

typedef void (*bench_msg_fn)(void *arg, const char *topic, const void *p, size_t n);

struct bench_client {
	MQTTAsync c;
	bench_msg_fn on_msg;
	void *arg;
	int broker_port;
	volatile int state;         /* 0 connecting, 1 up, -1 failed */
	volatile int closing;
};

/* Connect (MQTT 3.1.1, clean session) and wait up to 10 s; sets
 * TCP_NODELAY on the client's socket. Exits on failure. */
void bench_client_connect(struct bench_client *bc, const char *uri, const char *id,
			  int max_buffered, bench_msg_fn on_msg, void *arg);
/* Subscribe and wait for the SUBACK (up to 10 s). Exits on failure. */
void bench_client_subscribe(struct bench_client *bc, const char *topic, int qos);
void bench_client_close(struct bench_client *bc);

/* ---- /proc ------------------------------------------------------------ */

/* CPU time of every thread of pid (ns, from schedstat, else stat ticks). */
struct task_cpu {
	pid_t tid;
	char comm[32];
	uint64_t cpu_ns;
	uint64_t ctxsw;         /* voluntary + nonvoluntary */
};

size_t proc_tasks(pid_t pid, struct task_cpu *out, size_t max);
/* JSON object {"total_cpu_s":..,"threads":[{"tid","comm","cpu_s","ctxsw"}..]}
 * of the difference b - a over wall seconds. */
void proc_tasks_diff_json(FILE *f, const struct task_cpu *a, size_t na,
			  const struct task_cpu *b, size_t nb, pid_t pid, double wall_s);

#endif
