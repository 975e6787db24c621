/* port_svc — the one owner of a port's configuration. Every change, from
 * the API, the start-up --port names, the stored ports at start and MQTT
 * `set`, goes validate → persist → apply → announce here, and
 * port_config_diff() decides what applying needs (reopen, resubscribe,
 * reframe). Loop thread only. Each function returns GW_OK or a negative
 * enum gw_err with a sentence in err. */
#ifndef MQTTTY_PORT_SVC_H
#define MQTTTY_PORT_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "gw_err.h"

struct gateway;
struct gw_port;

/* Load the stored ports, then create the --port names not stored yet (in
 * one transaction). A port whose backend fails is kept (open:false) and
 * logged; only a store failure is an error. */
int port_svc_load(struct gateway *gw, char *err, size_t errlen);

/* body: port settings (borrowed). *out (borrowed, may be NULL) is the port. */
int port_svc_create(struct gateway *gw, json_t *body, struct gw_port **out,
		    char *err, size_t errlen);
/* patch: a JSON merge patch of settings (borrowed). */
int port_svc_patch(struct gateway *gw, const char *name, json_t *patch,
		   struct gw_port **out, char *err, size_t errlen);
int port_svc_delete(struct gateway *gw, const char *name, char *err, size_t errlen);
/* Deliver bytes to the local side as if from rx. */
int port_svc_send(struct gateway *gw, const char *name, const uint8_t *p, size_t n,
		  char *err, size_t errlen);
/* MQTT BASE/set: applied whole or not at all. */
int port_svc_set(struct gw_port *gp, const uint8_t *p, size_t n, char *err, size_t errlen);

/* New references for the API and the observers. */
json_t *port_svc_list_json(struct gateway *gw, bool with_state);
json_t *port_svc_get_json(struct gateway *gw, const char *name);   /* NULL: none */

#endif
