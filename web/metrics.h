/* metrics — GET /metrics: the Prometheus text exposition format (0.0.4),
 * CONTRACT.md §5. Read from the same objects the API shows, on the loop
 * thread, at scrape time (nothing is kept between scrapes). */
#ifndef MQTTTY_METRICS_H
#define MQTTTY_METRICS_H

#include <stddef.h>

struct gateway;
struct web;
struct http_req;
struct http_resp;

/* Answer GET /metrics into r (auth: as the API, or --metrics-token as a
 * Bearer token). */
void metrics_handle(struct gateway *gw, struct web *w, const struct http_req *req,
		    struct http_resp *r);

/* The exposition text (caller frees), *len its length; NULL when out of
 * memory. */
char *metrics_text(struct gateway *gw, size_t *len);

/* Escape a label value (\\, \", \n) into buf. Returns the escaped length,
 * or -1 if it does not fit. */
int metrics_escape_label(char *buf, size_t len, const char *v);

#endif
