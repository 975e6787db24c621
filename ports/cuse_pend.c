/* cuse_pend — requests answered later, see the header. */
#include "cuse_pend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cuse_pend_init(struct cuse_pend_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

static void on_interrupt(fuse_req_t req, void *data)
{
	struct cuse_pend *w = data;

	(void)req;
	w->interrupted = true;     /* answered by the owner, see the header */
}

struct cuse_pend *cuse_pend_add(struct cuse_pend_list *l, fuse_req_t req, const void *data,
				size_t n)
{
	struct cuse_pend *w = calloc(1, sizeof(*w) + (data ? n : 0));

	if (!w) {
		fuse_reply_err(req, ENOMEM);
		return NULL;
	}
	w->req = req;
	w->size = n;
	if (data)
		memcpy(w->data, data, n);
	*l->tail = w;
	l->tail = &w->next;
	fuse_req_interrupt_func(req, on_interrupt, w);
	return w;
}

struct cuse_pend *cuse_pend_pop(struct cuse_pend_list *l)
{
	struct cuse_pend *w = l->head;

	if (w && !(l->head = w->next))
		l->tail = &l->head;
	return w;
}

struct cuse_pend *cuse_pend_take(struct cuse_pend_list *l,
				 bool (*pred)(const struct cuse_pend *w, void *arg), void *arg)
{
	struct cuse_pend **pp, *w;

	for (pp = &l->head; (w = *pp); pp = &w->next) {
		if (!pred(w, arg))
			continue;
		if (!(*pp = w->next))
			l->tail = pp;
		return w;
	}
	return NULL;
}

bool cuse_pend_interrupted(const struct cuse_pend *w, void *arg)
{
	(void)arg;
	return w->interrupted;
}

void cuse_pend_fail_all(struct cuse_pend_list *l, int err)
{
	struct cuse_pend *w;

	while ((w = cuse_pend_pop(l))) {
		fuse_reply_err(w->req, err);
		free(w);
	}
}

size_t cuse_pend_bytes(const struct cuse_pend_list *l)
{
	size_t n = 0;

	for (const struct cuse_pend *w = l->head; w; w = w->next)
		n += w->size;
	return n;
}
