/* Unit tests for gateway/hq.c, the hand-off queue from Paho's threads to the
 * loop thread: order, the wake-up return value, the message bound, and many
 * producers against one consumer on real threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq.h"

static struct hq_event *ev(enum hq_type type, uint64_t id)
{
	struct hq_event *e = hq_event_new(type, NULL, NULL, 0);

	assert_non_null(e);
	e->id = id;
	return e;
}

static struct hq_event *msg(const char *topic, const char *payload)
{
	struct hq_event *e = hq_event_new(HQ_MESSAGE, topic, payload, strlen(payload));

	assert_non_null(e);
	return e;
}

static size_t free_list(struct hq_event *e)
{
	size_t n = 0;

	while (e) {
		struct hq_event *next = e->next;
		hq_event_free(e);
		e = next;
		n++;
	}
	return n;
}

static void event_new_copies(void **state)
{
	char topic[] = "mqttty/gw1/demo/rx";
	uint8_t payload[] = { 0x00, 0xFF, 0x0A };
	struct hq_event *e = hq_event_new(HQ_MESSAGE, topic, payload, sizeof(payload));

	assert_non_null(e);
	/* owned copies: the caller's buffers may go away */
	topic[0] = 'X';
	payload[0] = 0x55;
	assert_int_equal(e->type, HQ_MESSAGE);
	assert_string_equal(e->topic, "mqttty/gw1/demo/rx");
	assert_int_equal(e->len, 3);
	assert_memory_equal(e->payload, "\x00\xff\x0a", 3);
	assert_null(e->next);
	hq_event_free(e);

	e = hq_event_new(HQ_MESSAGE, "t", "", 0);     /* empty payload: valid pointer */
	assert_non_null(e);
	assert_non_null(e->payload);
	assert_int_equal(e->len, 0);
	hq_event_free(e);

	e = hq_event_new(HQ_LOST, NULL, NULL, 0);
	assert_non_null(e);
	assert_int_equal(e->type, HQ_LOST);
	assert_null(e->topic);
	assert_null(e->payload);
	assert_int_equal(e->rc, 0);
	assert_false(e->retained);
	hq_event_free(e);
	hq_event_free(NULL);
}

static void fifo_and_wakeup(void **state)
{
	struct hq q;
	struct hq_event *list, *e;
	uint64_t want = 1;

	assert_int_equal(hq_init(&q, 100), 0);
	assert_null(hq_take_all(&q));
	/* only the push onto an empty queue asks for a wake-up */
	assert_int_equal(hq_push(&q, ev(HQ_CONNECTED, 1)), 1);
	assert_int_equal(hq_push(&q, ev(HQ_PUB_DONE, 2)), 0);
	assert_int_equal(hq_push(&q, ev(HQ_PUB_DONE, 3)), 0);
	assert_int_equal(hq_push(&q, ev(HQ_LOST, 4)), 0);
	assert_int_equal(hq_push(&q, ev(HQ_CONNECT_FAIL, 5)), 0);
	assert_int_equal(q.count, 5);

	list = hq_take_all(&q);
	assert_int_equal(q.count, 0);
	assert_null(hq_take_all(&q));               /* take_all empties */
	for (e = list; e; e = e->next)
		assert_int_equal(e->id, want++);
	assert_int_equal(want, 6);
	assert_int_equal(list->type, HQ_CONNECTED);
	assert_int_equal(list->next->next->next->type, HQ_LOST);
	assert_int_equal(free_list(list), 5);

	/* empty again: the next push wakes again, and the tail was reset */
	assert_int_equal(hq_push(&q, ev(HQ_DISCONNECTED, 6)), 1);
	assert_int_equal(hq_push(&q, ev(HQ_PUB_DONE, 7)), 0);
	list = hq_take_all(&q);
	assert_non_null(list);
	assert_int_equal(list->id, 6);
	assert_int_equal(list->next->id, 7);
	assert_null(list->next->next);
	free_list(list);
	assert_int_equal(q.dropped, 0);
	hq_destroy(&q);
}

static void message_limit(void **state)
{
	struct hq q;
	struct hq_event *list;

	assert_int_equal(hq_init(&q, 3), 0);
	assert_int_equal(hq_push(&q, msg("t/1", "a")), 1);
	assert_int_equal(hq_push(&q, msg("t/2", "b")), 0);
	assert_int_equal(hq_push(&q, msg("t/3", "c")), 0);
	/* beyond the limit a message is refused, freed (ASan) and counted */
	assert_int_equal(hq_push(&q, msg("t/4", "d")), -1);
	assert_int_equal(q.dropped, 1);
	assert_int_equal(q.count, 3);
	/* control events still fit */
	assert_int_equal(hq_push(&q, ev(HQ_PUB_DONE, 42)), 0);
	assert_int_equal(hq_push(&q, ev(HQ_LOST, 43)), 0);
	assert_int_equal(hq_push(&q, ev(HQ_CONNECTED, 44)), 0);
	assert_int_equal(hq_push(&q, msg("t/5", "e")), -1);
	assert_int_equal(q.dropped, 2);

	assert_int_equal(q.dropped_bytes, 2);

	/* the refused messages stay visible as drop summaries, in order,
	 * so the consumer can count them against their port */
	list = hq_take_all(&q);
	assert_string_equal(list->topic, "t/1");
	assert_string_equal(list->next->topic, "t/2");
	assert_string_equal(list->next->next->topic, "t/3");
	assert_int_equal(list->next->next->next->type, HQ_DROPPED);
	assert_string_equal(list->next->next->next->topic, "t/4");
	assert_null(list->next->next->next->payload);
	assert_int_equal(list->next->next->next->rc, 1);
	assert_int_equal(list->next->next->next->next->id, 42);
	assert_int_equal(list->next->next->next->next->next->id, 43);
	assert_int_equal(list->next->next->next->next->next->next->id, 44);
	assert_int_equal(list->next->next->next->next->next->next->next->type, HQ_DROPPED);
	assert_int_equal(free_list(list), 8);

	/* drained: messages fit again; dropped is a running total */
	assert_int_equal(hq_push(&q, msg("t/6", "f")), 1);
	assert_int_equal(q.dropped, 2);
	hq_destroy(&q);
}

/* A flood on one topic past the bound is one summary with the totals; a
 * flood on ever new topics is bounded (limit / 16 + 16 summaries) and the
 * rest only counted. */
static void drop_summaries(void **state)
{
	struct hq q;
	struct hq_event *list;
	char t[32];

	assert_int_equal(hq_init(&q, 2), 0);
	assert_int_equal(hq_push(&q, msg("a", "x")), 1);
	assert_int_equal(hq_push(&q, msg("a", "x")), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(hq_push(&q, msg("p/rx", "hello")), -1);
	for (int i = 0; i < 100; i++) {
		snprintf(t, sizeof(t), "t/%d", i);
		assert_int_equal(hq_push(&q, msg(t, "z")), -1);
	}
	assert_int_equal(q.dropped, 200);
	assert_int_equal(q.dropped_bytes, 100 * 5 + 100);
	list = hq_take_all(&q);
	assert_int_equal(list->next->next->type, HQ_DROPPED);
	assert_string_equal(list->next->next->topic, "p/rx");
	assert_int_equal(list->next->next->rc, 100);
	assert_int_equal(list->next->next->len, 500);
	/* 2 messages + at most 16 summaries */
	assert_int_equal(free_list(list), 2 + 16);
	hq_destroy(&q);
}

static void no_limit(void **state)
{
	struct hq q;

	assert_int_equal(hq_init(&q, 0), 0);    /* 0: unbounded */
	for (int i = 0; i < 5000; i++)
		assert_true(hq_push(&q, msg("t", "x")) >= 0);
	assert_int_equal(q.count, 5000);
	assert_int_equal(q.dropped, 0);
	assert_int_equal(free_list(hq_take_all(&q)), 5000);
	hq_destroy(&q);
}

static void destroy_frees_queued(void **state)
{
	struct hq q;

	/* nothing taken: hq_destroy must free topics, payloads and events
	 * (LeakSanitizer fails the sanitizer build otherwise) */
	assert_int_equal(hq_init(&q, 10), 0);
	for (int i = 0; i < 8; i++)
		hq_push(&q, msg("mqttty/gw1/demo/rx", "payload bytes"));
	hq_push(&q, ev(HQ_LOST, 1));
	assert_int_equal(q.count, 9);
	hq_destroy(&q);
}

/* ---- threads ---------------------------------------------------------- */

#define PRODUCERS 4
#define PER_PRODUCER 10000

struct producer {
	struct hq *q;
	uint32_t index;
	size_t wakeups;      /* pushes that found the queue empty */
	size_t failures;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	char topic[32], payload[32];

	snprintf(topic, sizeof(topic), "p/%u", p->index);
	for (uint32_t i = 0; i < PER_PRODUCER; i++) {
		int n = snprintf(payload, sizeof(payload), "%u", i);
		struct hq_event *e = hq_event_new(HQ_MESSAGE, topic, payload, (size_t)n);
		int rc;

		if (!e) {
			p->failures++;
			continue;
		}
		e->epoch = p->index;
		e->id = i;
		rc = hq_push(p->q, e);
		if (rc == 1)
			p->wakeups++;
		else if (rc != 0)
			p->failures++;
		if ((i & 255) == 0)
			sched_yield();
	}
	return NULL;
}

static void many_producers_one_consumer(void **state)
{
	struct hq q;
	struct producer prod[PRODUCERS];
	pthread_t tid[PRODUCERS];
	uint64_t next[PRODUCERS] = { 0 };
	size_t received = 0, batches = 0, wakeups = 0, spins = 0;

	assert_int_equal(hq_init(&q, 0), 0);
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		prod[i] = (struct producer){ .q = &q, .index = i };
		assert_int_equal(pthread_create(&tid[i], NULL, produce, &prod[i]), 0);
	}
	/* the consumer drains while they push */
	while (received < PRODUCERS * PER_PRODUCER) {
		struct hq_event *e = hq_take_all(&q);

		if (!e) {
			assert_true(++spins < 100000000);
			sched_yield();
			continue;
		}
		batches++;
		while (e) {
			struct hq_event *n = e->next;
			char want[32];
			uint32_t p = e->epoch;

			assert_true(p < PRODUCERS);
			/* exactly once and in each producer's order */
			assert_int_equal(e->id, next[p]);
			next[p]++;
			snprintf(want, sizeof(want), "%u", (uint32_t)e->id);
			assert_int_equal(e->len, strlen(want));
			assert_memory_equal(e->payload, want, e->len);
			snprintf(want, sizeof(want), "p/%u", p);
			assert_string_equal(e->topic, want);
			hq_event_free(e);
			e = n;
			received++;
		}
	}
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(prod[i].failures, 0);
		assert_int_equal(next[i], PER_PRODUCER);
		wakeups += prod[i].wakeups;
	}
	assert_null(hq_take_all(&q));
	assert_int_equal(q.dropped, 0);
	/* each non-empty take_all was preceded by exactly one wake-up: none lost,
	 * none spurious */
	assert_int_equal(wakeups, batches);
	hq_destroy(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(event_new_copies),
		cmocka_unit_test(fifo_and_wakeup),
		cmocka_unit_test(message_limit),
		cmocka_unit_test(drop_summaries),
		cmocka_unit_test(no_limit),
		cmocka_unit_test(destroy_frees_queued),
		cmocka_unit_test(many_producers_one_consumer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
