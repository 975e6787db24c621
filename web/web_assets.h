/* web_assets — the dashboard's files, compiled into the binary. */
#ifndef MQTTTY_WEB_ASSETS_H
#define MQTTTY_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path;      /* "/index.html" */
	const char *mime;
	const unsigned char *data;
	size_t len;
};

/* NULL if there is no such file. */
const struct web_asset *web_asset_find(const char *path);

#endif
