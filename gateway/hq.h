/* hq — the hand-off queue from Paho's threads to the loop thread.
 *
 * Producers (any thread) push owned events under a mutex; the consumer (the
 * loop) takes the whole list at once. Wake-ups are the caller's business
 * (uv_async_send), so this module stays free of libuv and unit-testable. */
#ifndef MQTTTY_HQ_H
#define MQTTTY_HQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hq_type {
	HQ_CONNECTED,     /* a (re)connect finished */
	HQ_LOST,          /* connection lost */
	HQ_CONNECT_FAIL,  /* a connect attempt failed (rc) */
	HQ_MESSAGE,       /* topic + payload arrived */
	HQ_PUB_DONE,      /* publish finished: id, epoch, rc (0 = ok) */
	HQ_DISCONNECTED,  /* our own disconnect finished */
	HQ_DROPPED,       /* messages on topic refused at the bound: rc of them,
			   * len bytes in all (no payload) */
	HQ_WIPED,         /* the disconnect after a session-wiping connect */
	HQ_SUB_DONE,      /* a subscribe finished: id = its token, rc = the
			   * granted QoS, or 0x80 / a negative code if refused */
};

struct hq_event {
	struct hq_event *next;
	enum hq_type type;
	int rc;
	bool retained;
	uint64_t id;          /* HQ_PUB_DONE: the publisher's cookie */
	uint32_t epoch;       /* connection epoch the publish belonged to */
	char *topic;          /* HQ_MESSAGE: in e's own block (freed with e) */
	uint8_t *payload;     /* HQ_MESSAGE: in e's own block (freed with e) */
	size_t len;
	/* embedded in its producer's own record (a publish context): neither
	 * hq_event_free nor hq_destroy frees it; the consumer hands it back */
	bool borrowed;
	/* the consumer need not be woken for it: it collects it at its next
	 * wake-up or its own next look (hq_push asks no wake for it) */
	bool lazy;
};

struct hq {
	pthread_mutex_t lock;
	struct hq_event *head, **tail;
	size_t count, dropped;       /* dropped: messages refused, a running total */
	uint64_t dropped_bytes;
	size_t summaries;            /* HQ_DROPPED events queued */
	bool woken;                  /* a wake-up was asked since the last take */
	size_t limit;         /* bound on queued events; beyond it push fails */
};

int hq_init(struct hq *q, size_t limit);
void hq_destroy(struct hq *q);   /* frees what is still queued */

/* New event with copies of topic/payload (may be NULL). NULL on ENOMEM. */
struct hq_event *hq_event_new(enum hq_type type, const char *topic,
			      const void *payload, size_t len);
/* Frees e and what it owns; a borrowed event is left alone. */
void hq_event_free(struct hq_event *e);

/* Takes ownership of e. Returns 1 if the caller is to wake the consumer:
 * e is the first event since the consumer's last take that is not lazy
 * (lazy events alone never ask for a wake-up); 0 otherwise; on overflow -1 is
 * returned and the message counted in q->dropped and q->dropped_bytes: it
 * becomes (or is merged into the queue's last) HQ_DROPPED event for its
 * topic, so the consumer can tell whom the loss belongs to. Summaries are
 * bounded too (limit / 16 + 16); past that a drop is only counted. Messages
 * are only ever refused: control events always fit. */
int hq_push(struct hq *q, struct hq_event *e);

/* Detach the whole list (oldest first); caller frees each event. */
struct hq_event *hq_take_all(struct hq *q);

#endif
