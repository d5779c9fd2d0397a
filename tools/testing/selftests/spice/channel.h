/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The request channel of a dumpee: a pipe the test writes requests to and
 * one it reads the answers from, kept on fixed fds across the dump and the
 * restore (the launcher's fd map hands in new pipes under those numbers).
 */
#ifndef SPICE_CHANNEL_H
#define SPICE_CHANNEL_H

#include <fcntl.h>
#include <unistd.h>

/*
 * In a dumpee: put @cmd and @ack on fds @cmd_at and @ack_at (adjacent),
 * and @keep, unless it is -1, on @ack_at + 1; close every other fd.  Each
 * is moved out of the way first, as any may sit on another's number.
 * Exits with 20 if it cannot.
 */
static inline void channel_fds(int cmd, int ack, int keep, int cmd_at, int ack_at)
{
	int kept = keep >= 0;

	cmd = fcntl(cmd, F_DUPFD, 100);
	ack = fcntl(ack, F_DUPFD, 100);
	if (kept)
		keep = fcntl(keep, F_DUPFD, 100);
	if (cmd < 0 || ack < 0 || (kept && keep < 0) || dup2(cmd, cmd_at) < 0 ||
	    dup2(ack, ack_at) < 0 || (kept && dup2(keep, ack_at + 1) < 0))
		_exit(20);
	close_range(0, 2, 0);
	close_range(3, cmd_at - 1, 0);
	close_range(ack_at + 1 + kept, ~0U, 0);
}

/*
 * In a dumpee, its state set: say "R", then answer each request 'c' with
 * what @check says of state @with, until 'e' (exit 7) or the end of the
 * channel (exit 14).
 */
static inline void channel_serve(char (*check)(int with), int with, int cmd_at,
				 int ack_at)
{
	char c;

	if (write(ack_at, "R", 1) != 1)
		_exit(28);
	while (read(cmd_at, &c, 1) == 1) {
		if (c == 'e')
			_exit(7);
		c = check(with);
		if (write(ack_at, &c, 1) != 1)
			_exit(29);
	}
	_exit(14);
}

#endif /* SPICE_CHANNEL_H */
