/* uri — the broker URI of the contract: mqtt[s]://[user[:pass]@]host[:port]. */
#ifndef MQTTTY_URI_H
#define MQTTTY_URI_H

#include <stdbool.h>
#include <stddef.h>

struct broker_uri {
	bool tls;
	char host[256];
	int port;
	char user[256];      /* percent-decoded; "" = none */
	char pass[256];
	bool has_pass;
	char server[300];    /* what Paho gets: tcp://host:port or ssl://host:port */
	char display[600];   /* the URI without the password, for logs and the API */
};

/* 0 or -1 with a sentence in err. */
int broker_uri_parse(const char *s, struct broker_uri *out, char *err, size_t errlen);

#endif
