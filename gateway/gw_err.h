/* gw_err — the one error enum of the gateway's services. Each code is
 * turned into an HTTP status (web/api.c), a log line or an exit message in
 * one place only; the sentence saying what went wrong travels beside it in
 * a caller's buffer. */
#ifndef MQTTTY_GW_ERR_H
#define MQTTTY_GW_ERR_H

enum gw_err {
	GW_OK = 0,
	GW_EINVAL = -1,     /* bad input, or a kind this system cannot host */
	GW_ENOENT = -2,     /* no such port */
	GW_EEXIST = -3,     /* name (or link, or device node) taken */
	GW_ECONFLICT = -4,  /* not now: e.g. no application holds the port */
	GW_ESTORE = -5,     /* the database failed */
	GW_EBUSY = -6,      /* try again later: the database is locked, a bound is full */
	GW_ENOMEM = -7,
};

#endif
