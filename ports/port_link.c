/* port_link — atomic symlinks for the ports' stable paths. */
#include "port_link.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINK_TMP_STALE_S 60

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

/* ".NAME.PID.tmp" with NAME a port name ([A-Za-z0-9_.-]{1,32}, not starting
 * with '.') and PID decimal digits. The PID is written to *pid. */
static bool link_tmp_name(const char *n, long *pid)
{
	size_t len = strlen(n), i;
	const char *dot;
	char *end;

	if (len < 8 || n[0] != '.' || strcmp(n + len - 4, ".tmp") != 0)
		return false;
	/* the PID sits between the last '.' before ".tmp" and ".tmp" */
	for (dot = n + len - 5; dot > n && *dot != '.'; dot--)
		;
	if (dot <= n + 1 || dot - (n + 1) > 32 || n[1] == '.')
		return false;
	for (i = 1; n + i < dot; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    n[i]))
			return false;
	if (dot[1] < '0' || dot[1] > '9')
		return false;
	errno = 0;
	*pid = strtol(dot + 1, &end, 10);
	return errno == 0 && *pid > 0 && strcmp(end, ".tmp") == 0;
}

int port_link_clean(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	int removed = 0;
	long pid;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!link_tmp_name(e->d_name, &pid))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISLNK(st.st_mode))
			continue;
		/* a live process (another gateway on this directory) may be
		 * between its symlink() and rename() right now; that takes
		 * microseconds, so an old temporary is stale even when its PID
		 * now belongs to some other process */
		if (pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno != ESRCH) &&
		    st.st_mtime > time(NULL) - LINK_TMP_STALE_S)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
			log_info("removed a stale link temporary %s/%s", dir, e->d_name);
			removed++;
		}
	}
	closedir(d);
	return removed;
}
