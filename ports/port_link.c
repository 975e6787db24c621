/* port_link — atomic symlinks for the ports' stable paths. */
#include "port_link.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int port_link_make(const char *dir, const char *name, const char *target, char *link,
		   size_t linklen, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 32];
	struct stat st;
	int n;

	n = snprintf(link, linklen, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= linklen) {
		snprintf(err, errlen, "link path for port %s is too long", name);
		goto fail;
	}
	if (lstat(link, &st) == 0 && !S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a symlink; not replacing it", link);
		goto fail;
	}
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, name, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "link path for port %s is too long", name);
		goto fail;
	}
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
		int e = errno;
		unlink(tmp);
		snprintf(err, errlen, "cannot create link %s: %s", link, strerror(e));
		goto fail;
	}
	return 0;
fail:
	if (linklen)
		link[0] = '\0';
	return -1;
}

void port_link_remove(const char *link, const char *target)
{
	char cur[PATH_MAX];
	ssize_t n;

	if (!link[0])
		return;
	n = readlink(link, cur, sizeof(cur) - 1);
	if (n <= 0)
		return;
	cur[n] = '\0';
	if (strcmp(cur, target) == 0)
		unlink(link);
}
