/* hq — mutex-protected singly linked FIFO. */
#include "hq.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int hq_init(struct hq *q, size_t limit)
{
	memset(q, 0, sizeof(*q));
	q->tail = &q->head;
	q->limit = limit;
	return pthread_mutex_init(&q->lock, NULL) ? -1 : 0;
}

void hq_destroy(struct hq *q)
{
	struct hq_event *e = hq_take_all(q);

	while (e) {
		struct hq_event *n = e->next;
		hq_event_free(e);
		e = n;
	}
	pthread_mutex_destroy(&q->lock);
}

/* One allocation per event: the topic and the payload (when given) follow
 * the event in the same block, so a message costs one malloc and one free
 * across the two threads instead of three. */
struct hq_event *hq_event_new(enum hq_type type, const char *topic,
			      const void *payload, size_t len)
{
	size_t tl = topic ? strlen(topic) + 1 : 0;
	/* +1 so an empty payload still gets a valid pointer */
	size_t pl = payload ? len + 1 : 0;
	struct hq_event *e;

	if (pl && pl < len)
		return NULL;
	e = malloc(sizeof(*e) + tl + pl);
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->type = type;
	if (topic) {
		e->topic = (char *)(e + 1);
		memcpy(e->topic, topic, tl);
	}
	if (payload) {
		e->payload = (uint8_t *)(e + 1) + tl;
		memcpy(e->payload, payload, len);
		e->len = len;
	}
	return e;
}

void hq_event_free(struct hq_event *e)
{
	if (!e || e->borrowed)
		return;
	free(e);
}

/* Under the lock: turn a refused message into a drop summary, or merge it
 * into the last one of the same topic. false: e is to be freed. */
static bool summarise(struct hq *q, struct hq_event *e)
{
	struct hq_event *last = q->tail == &q->head ? NULL
				: (struct hq_event *)((char *)q->tail - offsetof(struct hq_event, next));

	if (last && last->type == HQ_DROPPED && e->topic && last->topic &&
	    strcmp(last->topic, e->topic) == 0) {
		last->rc++;
		last->len += e->len;
		return false;
	}
	if (q->summaries >= q->limit / 16 + 16)
		return false;
	e->payload = NULL;          /* its bytes stay in e's block, unused */
	e->type = HQ_DROPPED;
	e->rc = 1;
	q->summaries++;
	*q->tail = e;
	q->tail = &e->next;
	return true;
}

int hq_push(struct hq *q, struct hq_event *e)
{
	int wake;

	e->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (e->type == HQ_MESSAGE && q->limit && q->count >= q->limit) {
		bool kept;
		q->dropped++;
		q->dropped_bytes += e->len;
		kept = summarise(q, e);
		pthread_mutex_unlock(&q->lock);
		if (!kept)
			hq_event_free(e);
		return -1;
	}
	*q->tail = e;
	q->tail = &e->next;
	q->count++;
	wake = !e->lazy && !q->woken;
	if (wake)
		q->woken = true;
	pthread_mutex_unlock(&q->lock);
	return wake;
}

struct hq_event *hq_take_all(struct hq *q)
{
	struct hq_event *list;

	pthread_mutex_lock(&q->lock);
	list = q->head;
	q->head = NULL;
	q->tail = &q->head;
	q->count = 0;
	q->summaries = 0;
	q->woken = false;
	pthread_mutex_unlock(&q->lock);
	return list;
}
