/* SPDX-License-Identifier: GPL-2.0 */
/* The spice command's subcommands; each returns an exit status, or -1
 * for --help.
 */
#ifndef __SPICE_COMMANDS_H
#define __SPICE_COMMANDS_H

#define EXIT_USAGE 2
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int cmd_dump(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_export_core(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_record(int argc, char **argv);

extern const char usage_dump[], usage_inspect[], usage_verify[],
	usage_restore[], usage_export_core[], usage_run[], usage_record[];

struct spice_dump_stats;
/* What a dump did, as text or one JSON object (cmd_dump.c). */
void print_dump_stats(const struct spice_dump_stats *s, int json);

struct http_target;
/* --http ADDR and --path PATH into @t, or say why not (cmd_run.c); 0 or -1. */
int parse_http(struct http_target *t, const char *addr, const char *path);

struct spice_image;
/*
 * spice inspect's process flags and oom_score_adj (a line, or JSON members
 * with a trailing comma) and resource limits (a line each, or one JSON
 * member) (inspect_settings.c).
 */
void print_proc_settings(const struct spice_image *img, int json);
void print_rlimits(const struct spice_image *img, int json);
void print_itimers(const struct spice_image *img, int json);
void print_signals(const struct spice_image *img, int json);
void print_posix_timers(const struct spice_image *img, int json);

#endif /* __SPICE_COMMANDS_H */
