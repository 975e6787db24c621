/* cuse_pend — fuse requests of a cuse port that are answered later
 * (blocking reads, held writes, TIOCMIWAIT), in arrival order.
 *
 * A signal to the application interrupts them: libfuse calls the interrupt
 * callback, which only marks the entry, because libfuse may call it with
 * the request's lock held and a reply there could free the request under
 * it. The owner answers marked entries later (cuse_pend_take with
 * cuse_pend_interrupted), outside libfuse's callback. */
#ifndef MQTTTY_CUSE_PEND_H
#define MQTTTY_CUSE_PEND_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 31
#endif
#include <fuse_lowlevel.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cuse_tty.h"

struct cuse_pend {
	struct cuse_pend *next;
	fuse_req_t req;            /* answered by whoever takes the entry */
	bool interrupted;          /* set by the interrupt callback */
	size_t size;               /* read: bytes wanted; write: bytes held */
	unsigned long mask;        /* TIOCMIWAIT: the lines waited for */
	struct cuse_tty_icount snap;   /* TIOCMIWAIT: the counters at its start */
	uint8_t data[];            /* write: the bytes */
};

struct cuse_pend_list {
	struct cuse_pend *head, **tail;
};

void cuse_pend_init(struct cuse_pend_list *l);
/* Keep req at the end of l, with a copy of data (n bytes; data NULL: none,
 * n is kept as size). Registers the interrupt callback, which may mark the
 * entry at once. Returns the entry (owned by l), or NULL after answering
 * ENOMEM. */
struct cuse_pend *cuse_pend_add(struct cuse_pend_list *l, fuse_req_t req, const void *data,
				size_t n);
/* Unlink and return the first entry (caller answers and frees it), or NULL. */
struct cuse_pend *cuse_pend_pop(struct cuse_pend_list *l);
/* Unlink and return the first entry for which pred(entry, arg) holds
 * (caller answers and frees it), or NULL. */
struct cuse_pend *cuse_pend_take(struct cuse_pend_list *l,
				 bool (*pred)(const struct cuse_pend *w, void *arg), void *arg);
/* pred for cuse_pend_take: the application was interrupted by a signal. */
bool cuse_pend_interrupted(const struct cuse_pend *w, void *arg);
/* Answer every entry with err (a positive errno) and free it. */
void cuse_pend_fail_all(struct cuse_pend_list *l, int err);
/* Sum of the sizes (held write bytes, for TIOCOUTQ). */
size_t cuse_pend_bytes(const struct cuse_pend_list *l);

#endif
