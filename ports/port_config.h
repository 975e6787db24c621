/* port_config — the settings of one port (CONTRACT.md §2).
 *
 * One table of fields (struct port_field, one row per setting) is the single
 * source of truth for the API, the store, the CLI, the schema and the MQTT
 * `ports` topic: JSON in and out, merge-patch reset, equality, the diff that
 * says what a change needs, and the store's columns all walk it. */
#ifndef MQTTTY_PORT_CONFIG_H
#define MQTTTY_PORT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define PORT_NAME_MAX 32
#define PORT_DEVICE_MAX 255
#define PORT_PEER_MAX (64 + 1 + PORT_NAME_MAX)
#define PORT_ADDR_MAX 63                    /* "ADDR:PORT", "[v6]:PORT" */
#define FRAME_DELIM_MAX 8
#define FRAME_MAX_LIMIT 65536

enum port_kind { PORT_KIND_PTY, PORT_KIND_DEVICE, PORT_KIND_CUSE, PORT_KIND_RFC2217 };
enum port_parity { PARITY_NONE, PARITY_EVEN, PARITY_ODD, PARITY_MARK, PARITY_SPACE };
enum port_flow { FLOW_NONE, FLOW_RTSCTS, FLOW_XONXOFF };
enum frame_mode { FRAME_RAW, FRAME_DELIM, FRAME_IDLE };

struct frame_cfg {
	enum frame_mode mode;
	uint32_t max;                 /* 1..65536 */
	uint8_t delim[FRAME_DELIM_MAX];
	uint8_t delim_len;            /* delim mode: 1..8 */
	uint32_t idle_ms;             /* idle mode: 0 = 3.5 char times at baud */
};

/* Plain value type: no heap pointers, so structs copy with `=`. */
struct port_config {
	char name[PORT_NAME_MAX + 1];
	enum port_kind kind;
	char device[PORT_DEVICE_MAX + 1];   /* "" = null */
	uint32_t baud;
	int data_bits;                      /* 5..8 */
	enum port_parity parity;
	int stop_bits;                      /* 1 or 2 */
	enum port_flow flow;
	bool dtr, rts;
	char peer[PORT_PEER_MAX + 1];       /* "" = null; "GATEWAY/PORT" */
	bool follow;
	struct frame_cfg frame;
	int qos;                            /* 0 or 1 */
	bool enabled;
	char rfc2217[PORT_ADDR_MAX + 1];    /* "" = null; RFC 2217 listener */
};

/* Fill with the contract's defaults (name left empty). */
void port_config_defaults(struct port_config *c);

/* 0 if NAME is a valid port name ([A-Za-z0-9_.-]{1,32}, not starting
 * with '.'), else -1 with a sentence in err. */
int port_name_check(const char *name, char *err, size_t errlen);
/* Gateway id: [A-Za-z0-9_-]{1,64}. */
int gateway_id_check(const char *id, char *err, size_t errlen);

/* Apply a JSON object to c.
 *  create: every field allowed (name required unless c->name is set);
 *  !create: a JSON merge patch: `null` restores the default, name/kind may
 *           not change, "path" and "state" are ignored.
 * Unknown fields, wrong types, out-of-range values → -1 and a sentence naming
 * the field in err; c is then unchanged (the caller's copy is only replaced
 * when every field checked out). The cross-field rules (follow needs a
 * device port with a peer, no self-peer, device needs a path) are checked
 * too; self_id is the gateway id for the self-peer check (may be NULL). */
int port_config_apply_json(struct port_config *c, json_t *obj, bool create,
			   const char *self_id, char *err, size_t errlen);

/* New reference: every setting, `null` where not applicable. */
json_t *port_config_to_json(const struct port_config *c);
json_t *frame_cfg_to_json(const struct frame_cfg *f);
/* Parse a frame object (as in the contract); -1 + err on bad input. */
int frame_cfg_from_json(struct frame_cfg *f, json_t *v, char *err, size_t errlen);

const char *port_kind_name(enum port_kind k);
const char *port_parity_name(enum port_parity p);
const char *port_flow_name(enum port_flow f);
int port_kind_parse(const char *s, enum port_kind *out);
int port_parity_parse(const char *s, enum port_parity *out);
int port_flow_parse(const char *s, enum port_flow *out);

bool port_config_equal(const struct port_config *a, const struct port_config *b);

/* ---- the field table ---- */

enum port_field_type { PF_NAME, PF_PATH, PF_PEER, PF_INT, PF_BOOL, PF_ENUM, PF_FRAME, PF_ADDR };

/* What a change of a field needs (port_config_diff ORs them). */
enum {
	PFX_CHANGED = 1u << 0,  /* something differs */
	PFX_FIXED   = 1u << 1,  /* name, kind: never changes after creation */
	PFX_REOPEN  = 1u << 2,  /* a new backend (new pty, reopened device) */
	PFX_LINE    = 1u << 3,  /* initial line settings: reopen for a device */
	PFX_PEER    = 1u << 4,  /* peer topics resubscribed, follow restarted */
	PFX_QOS     = 1u << 5,  /* rx and peer tx resubscribed at the new QoS */
	PFX_FRAME   = 1u << 6,  /* a new framer (pending bytes go out first) */
	PFX_SERVE   = 1u << 7,  /* the RFC 2217 listener moves (the port stays) */
};

struct port_field {
	const char *name;              /* JSON key and store column */
	enum port_field_type type;
	size_t off, size;              /* in struct port_config; size for strings */
	long long lo, hi;              /* PF_INT range */
	const char *const *names;      /* PF_ENUM values, PF_FRAME modes */
	size_t nnames;
	unsigned effect;               /* PFX_* */
	unsigned kinds;                /* 1 << PORT_KIND_*: kinds that use it; 0 = all */
	bool nullable;                 /* JSON null stands for "not set" */
	const char *help;
};

size_t port_field_count(void);
const struct port_field *port_field_at(size_t i);   /* NULL past the end */
/* New reference: the field's value as the API shows it. */
json_t *port_field_get(const struct port_config *c, const struct port_field *f);
/* Check and set one field; JSON null restores the default. -1 + err (c
 * unchanged for that field) on bad input. */
int port_field_set(struct port_config *c, const struct port_field *f, json_t *v,
		   char *err, size_t errlen);
/* New reference: GET /api/v1/schema. */
json_t *port_config_schema_json(void);
/* What going from a to b needs: PFX_* bits (0 = nothing changed). A line
 * setting of a device port comes with PFX_REOPEN. */
unsigned port_config_diff(const struct port_config *a, const struct port_config *b);
/* "ADDR:PORT" with a numeric IPv4 address or "[IPv6]:PORT", port 1..65535:
 * 0, or -1 + err. *loopback (may be NULL) says whether it is 127/8 or ::1. */
int port_addr_check(const char *s, bool *loopback, char *err, size_t errlen);

#endif
