/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mldctl — talks to a running mldagent over its control socket.
 *
 *   mldctl [-S SOCKET] join IFACE GROUP [include|exclude [SRC ...]] [--listener NAME]
 *   mldctl [-S SOCKET] leave IFACE GROUP [--listener NAME]
 *   mldctl [-S SOCKET] show [-j]
 *   mldctl [-S SOCKET] stats [-j]
 *   mldctl [-S SOCKET] reload
 *
 * The agent validates every command; a refused one changes nothing and
 * mldctl exits 1 with the agent's reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/mldagent/mldagent.sock"

static void usage(FILE *f)
{
	fprintf(f, "usage: mldctl [-S SOCKET] join IFACE GROUP [include|exclude [SRC ...]] "
	           "[--listener NAME]\n"
	           "       mldctl [-S SOCKET] leave IFACE GROUP [--listener NAME]\n"
	           "       mldctl [-S SOCKET] show [-j]\n"
	           "       mldctl [-S SOCKET] stats [-j]\n"
	           "       mldctl [-S SOCKET] reload\n");
}

int main(int argc, char **argv)
{
	const char *sock = DEFAULT_SOCKET;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *resp = NULL, *nl;
	size_t used = 0, cap = 0;
	int i = 1, fd, first = 1;
	ssize_t n;
	FILE *cmd;
	char *line = NULL;
	size_t linelen = 0;

	if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (i + 1 < argc && !strcmp(argv[i], "-S")) {
		sock = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = open_memstream(&line, &linelen);
	for (; i < argc; i++) {
		if (strpbrk(argv[i], " \t\n") || !argv[i][0]) {
			fprintf(stderr, "mldctl: bad argument '%s'\n", argv[i]);
			return 2;
		}
		fprintf(cmd, "%s%s", first ? "" : " ", argv[i]);
		first = 0;
	}
	fputc('\n', cmd);
	fclose(cmd);
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "mldctl: socket path too long\n");
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "mldctl: cannot reach mldagent at %s: %s\n", sock, strerror(errno));
		return 1;
	}
	if (write(fd, line, linelen) != (ssize_t)linelen) {
		fprintf(stderr, "mldctl: write: %s\n", strerror(errno));
		return 1;
	}
	free(line);
	shutdown(fd, SHUT_WR);
	/* First line: "ok" or "error: reason"; the rest is output. */
	for (;;) {
		if (used == cap) {
			char *p = realloc(resp, cap = cap ? cap * 2 : 65536);

			if (!p) {
				fprintf(stderr, "mldctl: out of memory\n");
				return 1;
			}
			resp = p;
		}
		n = read(fd, resp + used, cap - used);
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	nl = resp ? memchr(resp, '\n', used) : NULL;
	if (!nl) {
		fprintf(stderr, "mldctl: no answer from mldagent\n");
		return 1;
	}
	*nl = 0;
	if (strcmp(resp, "ok")) {
		fprintf(stderr, "mldctl: %s\n", strncmp(resp, "error: ", 7) ? resp : resp + 7);
		return 1;
	}
	fwrite(nl + 1, 1, used - (size_t)(nl + 1 - resp), stdout);
	free(resp);
	close(fd);
	return 0;
}
